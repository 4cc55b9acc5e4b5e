/** SIM slots: 0/1 SMS from SIM 1/2, 2 WhatsApp Business, 3 WhatsApp personal, 4/5 RCS. */
export type SimSlot = 0 | 1 | 2 | 3 | 4 | 5;

export const SIM_SLOTS: readonly SimSlot[] = [0, 1, 2, 3, 4, 5];

export function isSimSlot(value: unknown): value is SimSlot {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 5;
}

/** Which app a device runs: our socket.io protocol, or the SMSGate Android app's "mobile v1" API. */
export type DeviceKind = 'socket' | 'smsgate';

/** The slots a device of each kind can send from: the SMSGate app sends SMS only, from SIM 1 or 2. */
export const SEND_SLOTS_OF_KIND: Readonly<Record<DeviceKind, readonly SimSlot[]>> = {
  socket: SIM_SLOTS,
  smsgate: [0, 1],
};
