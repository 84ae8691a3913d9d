// The names of the clients on this page ("this device", "Device A", ...), so a value's writer reads as a device
// and not as a node id.
const names = new Map<string, string>();

/** Records the page's name for the client with `nodeId`. */
export function nameDevice(nodeId: string, name: string): void {
  names.set(nodeId, name);
}

/** The page's name for `nodeId`, or "another device" with its short id for a client elsewhere. */
export function deviceName(nodeId: string): string {
  return names.get(nodeId) ?? `another device (${nodeId.slice(0, 7)})`;
}
