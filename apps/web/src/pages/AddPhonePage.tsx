import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import QRCode from 'qrcode';
import { get, post, SessionInfo } from '../api';
import { ErrorNote, Loading, PageTitle } from '../ui';

const PHONE_TOKEN_KEY = ['phone-token'];

/** "Add a phone": the SMSGate app's settings with a QR code, or a simulated phone (docs/phones.md). */
export function AddPhonePage() {
  const queries = useQueryClient();
  const token = useQuery({
    queryKey: PHONE_TOKEN_KEY,
    queryFn: () => get<{ phone_token: string }>('/v1/account/phone-token').then((a) => a.phone_token),
  });
  const rotate = useMutation({
    mutationFn: () => post<{ phone_token: string }>('/v1/account/phone-token'),
    onSuccess: (answer) => queries.setQueryData(PHONE_TOKEN_KEY, answer.phone_token),
  });
  const session = queries.getQueryData<SessionInfo>(['session']);
  // Behind the bundled Caddy the phones' /mobile/v1 is on this host, over HTTPS (docs/phones.md).
  const apiUrl = `https://${window.location.host}/mobile/v1`;
  const [qr, setQr] = useState<string>();
  useEffect(() => {
    if (!token.data) return;
    void QRCode.toDataURL(JSON.stringify({ url: apiUrl, token: token.data }), { margin: 1, width: 220 }).then(
      setQr,
    );
  }, [apiUrl, token.data]);
  return (
    <section>
      <PageTitle>Add a phone</PageTitle>
      <h2>An Android phone with the SMSGate app</h2>
      <ol className="steps">
        <li>
          Install SMSGate 1.53.0 or newer (capcom6/android-sms-gateway, app-release.apk) and grant it SMS
          permissions.
        </li>
        <li>
          In <em>Settings → Cloud Server</em> enter:
          {token.isPending && <Loading what="the registration token" />}
          {token.error && <ErrorNote error={token.error} />}
          {token.data && (
            <dl className="settings">
              <dt>API URL</dt>
              <dd>
                <code>{apiUrl}</code>
                <br />
                <span className="muted">
                  This host over HTTPS, as the bundled Caddy serves it (docs/phones.md); without Caddy, the
                  dispatcher&apos;s address.
                </span>
              </dd>
              <dt>Private Token</dt>
              <dd>
                <code data-testid="phone-token">{token.data}</code>
              </dd>
              <dt>Notification channel</dt>
              <dd>SSE only</dd>
            </dl>
          )}
        </li>
        <li>
          On the Home tab switch Cloud Server on and tap Offline so it turns Online. It appears under Devices.
        </li>
      </ol>
      {qr && (
        <img
          className="qr"
          src={qr}
          alt="QR code of the API URL and the Private Token"
          width={220}
          height={220}
        />
      )}
      <p>
        <button type="button" onClick={() => rotate.mutate()} disabled={rotate.isPending}>
          Replace the registration token
        </button>{' '}
        <span className="muted">Phones already registered keep working; new ones need the new token.</span>
      </p>
      {rotate.error && <ErrorNote error={rotate.error} />}
      <h2>A simulated phone</h2>
      <p>On the server, from the smsfleet folder:</p>
      <pre>
        <code>{`npm run devices -- --count 1 --email ${session?.email ?? 'you@example.com'} --password '…'`}</code>
      </pre>
      {token.data && (
        <>
          <p>Or a simulated SMSGate app:</p>
          <pre>
            <code>{`npm run devices -- --count 0 --apps 1 --email ${session?.email ?? 'you@example.com'} --password '…' --phone-token ${token.data}`}</code>
          </pre>
        </>
      )}
    </section>
  );
}
