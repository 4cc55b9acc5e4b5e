import { SimInfo } from '@smsfleet/contracts';
import { unstorableTextProblem } from '@smsfleet/validation';
import { ApiError } from '../common/api-error';

const MAX_SLOTS = 6;
/** Six slots of six fields of 64 characters, each escaped as \uXXXX, and their names: JSON text above this is refused unread. */
const MAX_TEXT_LENGTH = 16_384;

/** `siminfo` arrives as an array (JSON) or as a JSON string (forms). */
export function parseSimInfo(raw: unknown): SimInfo[] {
  if (raw === undefined || raw === null || raw === '') return [];
  let value = raw;
  if (typeof raw === 'string') {
    if (raw.length > MAX_TEXT_LENGTH)
      throw ApiError.validation(`siminfo is too long (${raw.length} characters, at most ${MAX_TEXT_LENGTH})`);
    try {
      value = JSON.parse(raw);
    } catch {
      throw ApiError.validation(
        'siminfo must be a JSON array of {Slot, IccId, Number, Roaming, CountryIso, CarrierName}',
      );
    }
  }
  if (!Array.isArray(value) || value.length > MAX_SLOTS) {
    throw ApiError.validation(`siminfo must be an array of at most ${MAX_SLOTS} SIM descriptions`);
  }
  return value.map((item: unknown, index) => {
    if (item === null || typeof item !== 'object')
      throw ApiError.validation(`siminfo[${index}] must be an object`);
    const sim = item as Record<string, unknown>;
    const slot = typeof sim.Slot === 'string' ? Number(sim.Slot) : sim.Slot;
    if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot > 5) {
      throw ApiError.validation(`siminfo[${index}].Slot must be a SIM slot 0–5`);
    }
    return {
      Slot: slot,
      IccId: text(sim.IccId, `siminfo[${index}].IccId`),
      Number: text(sim.Number, `siminfo[${index}].Number`),
      Roaming: sim.Roaming === true || sim.Roaming === 1 || sim.Roaming === '1' || sim.Roaming === 'true',
      CountryIso: text(sim.CountryIso, `siminfo[${index}].CountryIso`),
      CarrierName: text(sim.CarrierName, `siminfo[${index}].CarrierName`),
    };
  });
}

function text(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number')
    throw ApiError.validation(`${field} must be text`);
  const result = String(value);
  if (result.length > 64) throw ApiError.validation(`${field} is too long (at most 64 characters)`);
  const problem = unstorableTextProblem(result);
  if (problem) throw ApiError.validation(`${field} ${problem}`);
  return result;
}
