/** Redis key that says a phone is online, on which dispatcher node, and when it was last seen. */
export const devicePresenceKey = (prefix: string, deviceId: number): string =>
  `${prefix}:presence:${deviceId}`;

/** Redis key of a phone's last sign of life (epoch ms), kept after its presence record expires. */
export const deviceLastSeenKey = (prefix: string, deviceId: number): string =>
  `${devicePresenceKey(prefix, deviceId)}:last-seen`;

export interface DevicePresenceRecord {
  nodeId: string;
  /** Epoch milliseconds. */
  lastSeen: number;
}
