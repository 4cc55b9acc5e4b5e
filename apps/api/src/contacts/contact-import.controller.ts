import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CallerService } from '../common/caller.service';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { ContactImportService } from './contact-import.service';
import { MAX_IMPORT_ROWS, readContactRows } from './contact-rows';

/**
 * `POST /v1/contacts/import` (token or session): `tag_id` and up to MAX_IMPORT_ROWS `contacts`
 * `[{phone, name}]`, saved together or not at all, every bad row named.
 */
@Controller('v1/contacts')
export class ContactImportController {
  constructor(
    private readonly caller: CallerService,
    private readonly imports: ContactImportService,
  ) {}

  @Post('import')
  @HttpCode(200)
  async import(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const tagId = params.requiredInt(['tag_id', 'ctag_id'], 1, 2_147_483_647);
    const rows = readContactRows(params.get('contacts')?.value);
    const result = await this.imports.importTagged(account, tagId, rows);
    return { error: 0, message: 'OK', tag_id: tagId, ...result, max_rows: MAX_IMPORT_ROWS };
  }
}
