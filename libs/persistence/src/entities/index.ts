import { ApiTokenEntity } from './api-token.entity';
import { ContactEntity } from './contact.entity';
import { DeviceEntity } from './device.entity';
import { MessageEventEntity } from './message-event.entity';
import { MessageEntity } from './message.entity';
import { NewsletterEntity } from './newsletter.entity';
import { TagEntity } from './tag.entity';
import { UserEntity } from './user.entity';

export {
  ApiTokenEntity,
  ContactEntity,
  DeviceEntity,
  MessageEventEntity,
  MessageEntity,
  NewsletterEntity,
  TagEntity,
  UserEntity,
};
export const ENTITIES = [
  UserEntity,
  ApiTokenEntity,
  DeviceEntity,
  MessageEntity,
  MessageEventEntity,
  TagEntity,
  ContactEntity,
  NewsletterEntity,
];
