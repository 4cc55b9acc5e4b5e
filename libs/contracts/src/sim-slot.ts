/** SIM slots: 0/1 SMS from SIM 1/2, 2 WhatsApp Business, 3 WhatsApp personal, 4/5 RCS. */
export type SimSlot = 0 | 1 | 2 | 3 | 4 | 5;

export const SIM_SLOTS: readonly SimSlot[] = [0, 1, 2, 3, 4, 5];

export function isSimSlot(value: unknown): value is SimSlot {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 5;
}
