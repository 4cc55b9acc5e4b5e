import { DeviceLeases } from './device-leases';
import { DeviceSettingsSignal } from './device-settings-signal';
import { WorkSignal } from './work-signal';

describe('pub/sub messages between our apps', () => {
  it('reads a settings change and ignores anything malformed', () => {
    expect(
      DeviceSettingsSignal.parse('{"deviceId":3,"settings":{"delaybetweeneachsms":2,"window":5}}'),
    ).toEqual({ deviceId: 3, settings: { delaybetweeneachsms: 2, window: 5 } });
    expect(
      DeviceSettingsSignal.parse(
        '{"deviceId":3,"settings":{"delaybetweeneachsms":2,"window":5,"delaybetweeneachsms_max":9}}',
      ),
    ).toEqual({ deviceId: 3, settings: { delaybetweeneachsms: 2, window: 5, delaybetweeneachsms_max: 9 } });
    for (const bad of [
      'nonsense',
      '{"deviceId":"3","settings":{"delaybetweeneachsms":2,"window":5}}',
      '{"deviceId":3,"settings":{"delaybetweeneachsms":2,"window":0}}',
      '{"deviceId":3,"settings":{"delaybetweeneachsms":1.5,"window":5}}',
      '{"deviceId":3}',
      '{"deviceId":3,"settings":{"delaybetweeneachsms":2,"window":5,"delaybetweeneachsms_max":"9"}}',
      'null',
    ])
      expect(DeviceSettingsSignal.parse(bad)).toBeUndefined();
  });

  it('reads a lease announcement', () => {
    expect(DeviceLeases.parse('{"deviceId":7,"owner":"node-a:xyz"}')).toEqual({
      deviceId: 7,
      owner: 'node-a:xyz',
    });
    expect(DeviceLeases.parse('{"deviceId":7}')).toBeUndefined();
    expect(DeviceLeases.parse('{')).toBeUndefined();
  });

  it('reads work signals', () => {
    expect(WorkSignal.parse('1,2!,x,-3,4,!,5!!')).toEqual([
      { deviceId: 1, urgent: false },
      { deviceId: 2, urgent: true },
      { deviceId: 4, urgent: false },
    ]);
  });
});
