/** Something the app may want to know about; local reads and writes keep working through all of them. */
export type ClientError =
  | { kind: "OP_REJECTED"; opId: string; reason: string; code?: number }
  | { kind: "AUTH_FAIL"; message: string }
  | { kind: "SERVER_ERROR"; code: number; message: string }
  | { kind: "PROTOCOL"; message: string }
  | { kind: "CONNECTION"; message: string }
  | { kind: "STORAGE"; message: string };
