/** Redis key that says a phone is online, on which dispatcher node, and when it was last seen. */
export const devicePresenceKey = (prefix: string, deviceId: number): string =>
  `${prefix}:presence:${deviceId}`;

export interface DevicePresenceRecord {
  nodeId: string;
  /** Epoch milliseconds. */
  lastSeen: number;
}
