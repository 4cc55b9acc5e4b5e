import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { NavLink, Navigate, Route, Routes } from 'react-router-dom';
import { ApiFailure, call, get, SessionInfo, setCsrfToken } from './api';
import { Loading } from './ui';
import { AccountPage } from './pages/AccountPage';
import { AddPhonePage } from './pages/AddPhonePage';
import { BulkSendPage } from './pages/BulkSendPage';
import { ContactsPage } from './pages/ContactsPage';
import { DevicesPage } from './pages/DevicesPage';
import { MessageDetailPage } from './pages/MessageDetailPage';
import { MessagesPage } from './pages/MessagesPage';
import { OverviewPage } from './pages/OverviewPage';
import { SendPage } from './pages/SendPage';
import { SignInPage } from './pages/SignInPage';
import { WebhookPage } from './pages/WebhookPage';
import { WebhooksPage } from './pages/WebhooksPage';

export const SESSION_KEY = ['session'];

/** Who is signed in: GET /v1/session answers the CSRF token again after a reload. */
async function loadSession(): Promise<SessionInfo | null> {
  try {
    const session = await get<SessionInfo>('/v1/session');
    setCsrfToken(session.csrf_token);
    return session;
  } catch (error) {
    if (error instanceof ApiFailure && error.code === 'invalid_token') return null;
    throw error;
  }
}

const PAGES: Array<[string, string]> = [
  ['/', 'Overview'],
  ['/devices', 'Devices'],
  ['/messages', 'Messages'],
  ['/send', 'Send'],
  ['/contacts', 'Contacts'],
  ['/webhooks', 'Webhooks'],
  ['/account', 'Account'],
];

export function App() {
  const queries = useQueryClient();
  const session = useQuery({ queryKey: SESSION_KEY, queryFn: loadSession, staleTime: Infinity });
  const signOut = useMutation({
    mutationFn: () => call('DELETE', '/v1/session'),
    onSettled: () => {
      setCsrfToken(undefined);
      queries.clear();
      queries.setQueryData(SESSION_KEY, null);
    },
  });
  if (session.isPending) return <Loading what="your session" />;
  if (!session.data)
    return (
      <main className="signin-main">
        <SignInPage />
      </main>
    );
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">smsfleet</span>
        <nav aria-label="Pages">
          {PAGES.map(([to, label]) => (
            <NavLink key={to} to={to} end={to === '/'}>
              {label}
            </NavLink>
          ))}
        </nav>
        <span className="who">{session.data.email}</span>
        <button type="button" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
          Sign out
        </button>
      </header>
      <main id="main">
        <Routes>
          <Route path="/" element={<OverviewPage />} />
          <Route path="/devices" element={<DevicesPage />} />
          <Route path="/devices/add" element={<AddPhonePage />} />
          <Route path="/messages" element={<MessagesPage />} />
          <Route path="/messages/:id" element={<MessageDetailPage />} />
          <Route path="/send" element={<SendPage />} />
          <Route path="/send/bulk" element={<BulkSendPage />} />
          <Route path="/contacts" element={<ContactsPage />} />
          <Route path="/webhooks" element={<WebhooksPage />} />
          <Route path="/webhooks/:id" element={<WebhookPage />} />
          <Route path="/account" element={<AccountPage />} />
          <Route path="/signin" element={<Navigate to="/" replace />} />
          <Route path="*" element={<Navigate to="/" replace />} />
        </Routes>
      </main>
    </>
  );
}
