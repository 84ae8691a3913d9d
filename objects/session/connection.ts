/** What a home keeps about a connection in its socket attachment (survives hibernation; far below 2 KB). */
export interface ConnectionState {
  /** Connection id, unique per home; also the socket's tag. */
  id: string;
  authenticated: boolean;
  /** AUTH_ACK was sent (it is sent once). */
  acked: boolean;
  userId?: string;
}

/** The home's view of one client socket. */
export interface Connection {
  readonly state: ConnectionState;
  update(state: ConnectionState): void;
  send(frame: Uint8Array): void;
  close(code: number, reason: string): void;
}

/** Parses a socket attachment written by this version (anything else is treated as a fresh, unauthenticated socket). */
export function readConnectionState(attachment: unknown, fallbackId: string): ConnectionState {
  if (typeof attachment === "object" && attachment !== null) {
    const { id, authenticated, acked, userId } = attachment as Record<string, unknown>;
    if (typeof id === "string") {
      return {
        id,
        authenticated: authenticated === true,
        acked: acked === true,
        ...(typeof userId === "string" ? { userId } : {}),
      };
    }
  }
  return { id: fallbackId, authenticated: false, acked: false };
}
