"""Standard span tag names (the OpenTracing semantic conventions)."""

# --- span kind ------------------------------------------------------------
#: Role of the span in an RPC or messaging exchange; one of the values below.
SPAN_KIND = "span.kind"
SPAN_KIND_RPC_CLIENT = "client"
SPAN_KIND_RPC_SERVER = "server"
SPAN_KIND_CONSUMER = "consumer"
SPAN_KIND_PRODUCER = "producer"

# --- service and component ------------------------------------------------
#: Name of the service that produced the span.
SERVICE = "service"
#: Set to ``True`` when the operation failed.
ERROR = "error"
#: Library, module or package that produced the span.
COMPONENT = "component"
#: Integer hint to the sampler: 0 means "do not sample", more means "please sample".
SAMPLING_PRIORITY = "sampling.priority"

# --- remote peer ----------------------------------------------------------
PEER_SERVICE = "peer.service"
PEER_HOSTNAME = "peer.hostname"
PEER_ADDRESS = "peer.address"
#: IPv4 address as a string or a packed integer.
PEER_HOST_IPV4 = "peer.ipv4"
PEER_HOST_IPV6 = "peer.ipv6"
PEER_PORT = "peer.port"

# --- HTTP -----------------------------------------------------------------
HTTP_URL = "http.url"
HTTP_METHOD = "http.method"
#: The tag value is an integer status code.
HTTP_STATUS_CODE = "http.status_code"

# --- databases ------------------------------------------------------------
DATABASE_INSTANCE = "db.instance"
DATABASE_STATEMENT = "db.statement"
DATABASE_TYPE = "db.type"
DATABASE_USER = "db.user"

# --- messaging ------------------------------------------------------------
MESSAGE_BUS_DESTINATION = "message_bus.destination"
