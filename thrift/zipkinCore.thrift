# Zipkin's v1 span model, as accepted by POST /api/v1/spans (application/x-thrift).
#
# Field ids and types follow Zipkin's published zipkinCore.thrift exactly; only
# the comments are ours. The collector expects a bare TBinaryProtocol
# list<Span> (element type STRUCT, i32 count, then the spans).
namespace java com.twitter.zipkin.thriftjava
namespace py zipkinCore

# Core annotation values (Annotation.value). They mark RPC and messaging
# events and only count when the annotation has a host.
const string CLIENT_SEND = "cs"
const string CLIENT_RECV = "cr"
const string SERVER_SEND = "ss"
const string SERVER_RECV = "sr"
const string MESSAGE_SEND = "ms"
const string MESSAGE_RECV = "mr"
const string WIRE_SEND = "ws"
const string WIRE_RECV = "wr"
const string CLIENT_SEND_FRAGMENT = "csf"
const string CLIENT_RECV_FRAGMENT = "crf"
const string SERVER_SEND_FRAGMENT = "ssf"
const string SERVER_RECV_FRAGMENT = "srf"

# Well-known BinaryAnnotation keys.
const string HTTP_HOST = "http.host"
const string HTTP_METHOD = "http.method"
const string HTTP_PATH = "http.path"
const string HTTP_ROUTE = "http.route"
const string HTTP_URL = "http.url"
const string HTTP_STATUS_CODE = "http.status_code"
const string HTTP_REQUEST_SIZE = "http.request.size"
const string HTTP_RESPONSE_SIZE = "http.response.size"
# A local (in-process) span; the value names the component.
const string LOCAL_COMPONENT = "lc"
# As an annotation: an error happened. As a binary annotation: the failure message.
const string ERROR = "error"
# Address keys: BOOL binary annotations (value 0x01) whose host is the remote peer.
const string CLIENT_ADDR = "ca"
const string SERVER_ADDR = "sa"
const string MESSAGE_ADDR = "ma"

# A network endpoint. ipv4 is the address packed big-endian into an i32
# (0 = unknown); port is an unsigned 16-bit value carried in an i16 (0 =
# unknown); service_name is lowercase ("" when unknown); ipv6 holds 16 raw bytes.
struct Endpoint {
  1: i32 ipv4
  2: i16 port
  3: string service_name
  4: optional binary ipv6
}

# A timestamped event. timestamp is epoch microseconds. Field id 4 is retired.
struct Annotation {
  1: i64 timestamp
  2: string value
  3: optional Endpoint host
}

# The type of BinaryAnnotation.value; written as an i32.
enum AnnotationType {
  BOOL = 0,
  BYTES = 1,
  I16 = 2,
  I32 = 3,
  I64 = 4,
  DOUBLE = 5,
  STRING = 6
}

# A tag (STRING, UTF-8 value) or an address (BOOL, value 0x01, key ca/sa/ma).
struct BinaryAnnotation {
  1: string key
  2: binary value
  3: AnnotationType annotation_type
  4: optional Endpoint host
}

# One span. IDs are unsigned 64-bit values carried in signed i64 fields;
# trace_id_high holds the upper half of a 128-bit trace ID. timestamp and
# duration are microseconds. Field ids 2 and 7 do not exist.
struct Span {
  1: i64 trace_id
  3: string name
  4: i64 id
  5: optional i64 parent_id
  6: list<Annotation> annotations
  8: list<BinaryAnnotation> binary_annotations
  9: optional bool debug = 0
  10: optional i64 timestamp
  11: optional i64 duration
  12: optional i64 trace_id_high
}
