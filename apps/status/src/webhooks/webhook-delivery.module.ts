import { DynamicModule, Module } from '@nestjs/common';
import { loadConfig } from '@smsfleet/config';
import { WebhookWorker } from './webhook-worker.service';

/**
 * The webhook delivery worker, hosted by the status app unless WEBHOOK_DELIVERY=off (an operator then runs
 * a status deployment with it on, scaled on its own). Replicas share the work through the claim.
 */
@Module({})
export class WebhookDeliveryModule {
  static forConfig(env: NodeJS.ProcessEnv = process.env): DynamicModule {
    const on = loadConfig(env).webhooks.delivery;
    return { module: WebhookDeliveryModule, providers: on ? [WebhookWorker] : [] };
  }
}
