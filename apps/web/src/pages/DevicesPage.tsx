import { FormEvent, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { Device, get, post } from '../api';
import { ago, SIM_LABELS } from '../lib/format';
import { Empty, ErrorNote, Loading, PageTitle } from '../ui';

export const DEVICES_KEY = ['devices'];
export const loadDevices = () => get<{ devices: Device[] }>('/v1/devices').then((answer) => answer.devices);

export function DevicesPage() {
  const devices = useQuery({ queryKey: DEVICES_KEY, queryFn: loadDevices, refetchInterval: 3_000 });
  return (
    <section>
      <PageTitle>Devices</PageTitle>
      <p>
        <Link className="button" to="/devices/add">
          Add a phone
        </Link>
      </p>
      {devices.isPending && <Loading what="your phones" />}
      {devices.error && <ErrorNote error={devices.error} retry={() => void devices.refetch()} />}
      {devices.data?.length === 0 && <Empty>No phones yet: add one to start sending.</Empty>}
      {devices.data && devices.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Your phones, refreshed every few seconds</caption>
            <thead>
              <tr>
                <th scope="col">Phone</th>
                <th scope="col">State</th>
                <th scope="col">Kind</th>
                <th scope="col">SIM cards</th>
                <th scope="col">Waiting</th>
                <th scope="col">Sent today</th>
                <th scope="col">Pace and window</th>
              </tr>
            </thead>
            <tbody>
              {devices.data.map((device) => (
                <DeviceRow key={device.id} device={device} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function DeviceRow({ device }: { device: Device }) {
  return (
    <tr data-testid={`device-${device.id}`}>
      <td>
        <strong>{device.title || `Device ${device.id}`}</strong>
        <br />
        <span className="muted">
          #{device.id}
          {device.app_version ? ` · app ${device.app_version}` : ''}
        </span>
      </td>
      <td>
        <span className={`pill ${device.online ? 'ok' : 'bad'}`} data-testid="online-state">
          {device.online ? 'Online' : 'Offline'}
        </span>
        <br />
        <span className="muted">last seen {ago(device.last_seen)}</span>
      </td>
      <td>{device.kind === 'smsgate' ? 'SMSGate app' : 'Socket'}</td>
      <td>
        {device.sim_info.length === 0
          ? '—'
          : device.sim_info.map((sim) => (
              <div key={sim.Slot}>
                {SIM_LABELS[sim.Slot] ?? `Slot ${sim.Slot}`}: {sim.CarrierName ?? 'unknown carrier'}
                {sim.Number ? ` (${sim.Number})` : ''}
              </div>
            ))}
      </td>
      <td data-testid="waiting">{device.waiting}</td>
      <td>{device.sent_today}</td>
      <td>
        <SettingsForm device={device} />
      </td>
    </tr>
  );
}

function SettingsForm({ device }: { device: Device }) {
  const queries = useQueryClient();
  const [pace, setPace] = useState(String(device.delaybetweeneachsms));
  // Empty: a fixed pace. Sent with every save, so that changing the window keeps a random pace.
  const [paceMax, setPaceMax] = useState(
    device.delaybetweeneachsms_max === null ? '' : String(device.delaybetweeneachsms_max),
  );
  const [window, setWindow] = useState(String(device.window));
  const save = useMutation({
    mutationFn: () =>
      post(`/v1/devices/${device.id}/settings`, {
        delaybetweeneachsms: Number(pace),
        ...(paceMax.trim() === '' ? {} : { delaybetweeneachsms_max: Number(paceMax) }),
        window: Number(window),
      }),
    onSuccess: () => queries.invalidateQueries({ queryKey: DEVICES_KEY }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="inline" onSubmit={submit} aria-label={`Pace and window of ${device.title || device.id}`}>
      <label>
        Seconds between SMS
        <input
          type="number"
          min={0}
          max={86400}
          required
          value={pace}
          onChange={(e) => setPace(e.target.value)}
          name="pace"
        />
      </label>
      <label>
        Random up to
        <input
          type="number"
          min={0}
          max={86400}
          placeholder="fixed"
          value={paceMax}
          onChange={(e) => setPaceMax(e.target.value)}
          name="pace-max"
        />
      </label>
      <label>
        Window
        <input
          type="number"
          min={1}
          max={1000}
          required
          value={window}
          onChange={(e) => setWindow(e.target.value)}
          name="window"
        />
      </label>
      <button type="submit" disabled={save.isPending}>
        Apply
      </button>
      {save.isSuccess && !save.isPending && (
        <span role="status" className="saved">
          Applied
        </span>
      )}
      {save.error && <ErrorNote error={save.error} />}
    </form>
  );
}
