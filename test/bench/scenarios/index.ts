import { Scenario } from '../result';
import { dashboard } from './dashboard';
import { dispatch } from './dispatch';
import { dispatchPools } from './dispatch-pools';
import { fleet } from './fleet';
import { intakeBulk } from './intake-bulk';
import { intakeSingle } from './intake-single';
import { intakeUnderAttack } from './intake-under-attack';
import { schedule } from './schedule';
import { status } from './status';
import { urgentLatency } from './urgent-latency';
import { webhooks } from './webhooks';

/** Every scenario, in the order `all` runs them. */
export const SCENARIOS: Scenario[] = [
  intakeSingle,
  intakeBulk,
  intakeUnderAttack,
  dispatch,
  dispatchPools,
  urgentLatency,
  schedule,
  status,
  fleet,
  dashboard,
  webhooks,
];
