import { FormEvent, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { post, SessionInfo, setCsrfToken } from '../api';
import { ErrorNote, PageTitle } from '../ui';

export function SignInPage() {
  const queries = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const signIn = useMutation({
    mutationFn: () => post<SessionInfo>('/v1/session', { email, password }),
    onSuccess: (session) => {
      setCsrfToken(session.csrf_token);
      queries.setQueryData(['session'], session);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate();
  };
  return (
    <section className="signin">
      <PageTitle>Sign in to smsfleet</PageTitle>
      <form onSubmit={submit}>
        <label>
          Email
          <input
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit" disabled={signIn.isPending}>
          {signIn.isPending ? 'Signing in…' : 'Sign in'}
        </button>
        {signIn.error && <ErrorNote error={signIn.error} />}
      </form>
    </section>
  );
}
