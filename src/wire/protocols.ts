// Protocol numbers in the common header's `protocol` field: which host agent a frame is for.
export const PROTO_PING = 1;
export const PROTO_FLOW = 6;
export const PROTO_BENCH = 17;
export const PROTO_RING = 200;
export const PROTO_SWITCHML = 201;
export const PROTO_SHARP = 202;
export const PROTO_MOE = 203;

// Message types within PROTO_PING (as ICMP).
export const PING_REQUEST = 8;
export const PING_REPLY = 0;
