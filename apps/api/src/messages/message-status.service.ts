import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Account } from '@smsfleet/auth';
import { statusTitle } from '@smsfleet/contracts';
import { ApiError } from '../common/api-error';

export interface MessageStatusView {
  smsId: number;
  status: number;
  title: string;
}

@Injectable()
export class MessageStatusService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async statusOf(account: Account, smsId: number): Promise<MessageStatusView> {
    const rows: Array<{ status: number }> = await this.db.query(
      `SELECT status FROM messages WHERE id = $1 AND user_id = $2`,
      [smsId, account.id],
    );
    if (rows.length === 0) throw ApiError.notFound(`sms_id ${smsId} not found`);
    return { smsId, status: rows[0].status, title: statusTitle(rows[0].status) };
  }
}
