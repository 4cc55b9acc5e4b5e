import { ApiTokenEntity } from './api-token.entity';
import { DeviceEntity } from './device.entity';
import { MessageEventEntity } from './message-event.entity';
import { MessageEntity } from './message.entity';
import { UserEntity } from './user.entity';

export { ApiTokenEntity, DeviceEntity, MessageEventEntity, MessageEntity, UserEntity };
export const ENTITIES = [UserEntity, ApiTokenEntity, DeviceEntity, MessageEntity, MessageEventEntity];
