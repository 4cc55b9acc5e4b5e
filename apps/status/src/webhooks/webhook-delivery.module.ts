import { Module } from '@nestjs/common';
import { TokenVault, WebhookSecrets } from '@smsfleet/auth';
import { WebhookWorker } from './webhook-worker.service';

/**
 * The webhook delivery worker, hosted by the status app; it idles where WEBHOOK_DELIVERY=off (an operator
 * then runs a status deployment with it on, scaled on its own). Replicas share the work through the claim.
 * The switch is read by the worker, not here: a module decided at import time would read the environment
 * before the app's start-up reports a bad configuration in its one line. The worker opens the sealed
 * webhook secrets with the TokenVault (TOKEN_SECRET, as the API's; ADR 0905).
 */
@Module({ providers: [WebhookWorker, TokenVault, WebhookSecrets] })
export class WebhookDeliveryModule {}
