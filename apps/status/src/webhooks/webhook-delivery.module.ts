import { Module } from '@nestjs/common';
import { WebhookWorker } from './webhook-worker.service';

/**
 * The webhook delivery worker, hosted by the status app; it idles where WEBHOOK_DELIVERY=off (an operator
 * then runs a status deployment with it on, scaled on its own). Replicas share the work through the claim.
 * The switch is read by the worker, not here: a module decided at import time would read the environment
 * before the app's start-up reports a bad configuration in its one line.
 */
@Module({ providers: [WebhookWorker] })
export class WebhookDeliveryModule {}
