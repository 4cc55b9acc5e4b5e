import { All, Controller, HttpCode, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';
import { CallerService } from '../common/caller.service';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { parseRecipients } from '../messages/recipients';
import { ContactsService } from './contacts.service';

const MAX_ID = 2_147_483_647;

@Controller('getdata')
export class ContactsController {
  constructor(
    private readonly caller: CallerService,
    private readonly contacts: ContactsService,
  ) {}

  /** Extra fields (the official example posts device_id, sim, body, tags here) are ignored. */
  @All('savetag')
  @HttpCode(200)
  async saveTag(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const title = params.requiredString(['title', 'name'], 255).trim();
    return { error: 0, tag_id: await this.contacts.createTag(account, title), message: 'OK' };
  }

  @All('savecontact')
  @HttpCode(200)
  async saveContact(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const phone = params.get('phone');
    const recipients = parseRecipients(params.requiredString('phone', 64), phone?.source === 'query');
    if (recipients.length !== 1) throw ApiError.validation('phone must be one number');
    const tagId = params.requiredInt(['ctag_id', 'tag_id', 'tagId'], 1, MAX_ID);
    const name = (params.optionalString(['name', 'fullname', 'fullName'], 255) ?? '').trim();
    const contactId = await this.contacts.saveContact(account, recipients[0], tagId, name);
    return { error: 0, contact_id: contactId, message: 'ok' };
  }
}
