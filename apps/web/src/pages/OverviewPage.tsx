import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { get, Overview } from '../api';
import { duration } from '../lib/format';
import { Empty, ErrorNote, Loading, PageTitle } from '../ui';

const RANGES = [
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
] as const;

const COLOURS = { delivered: '#2e7d32', failed: '#c62828', waiting: '#f9a825', in_progress: '#1565c0' };

export function OverviewPage() {
  const [range, setRange] = useState<'24h' | '7d'>('24h');
  const overview = useQuery({
    queryKey: ['overview', range],
    queryFn: () => get<Overview>('/v1/overview', { range }),
    refetchInterval: 10_000,
  });
  const data = overview.data;
  const hourLabel = (iso: string) =>
    new Date(iso).toLocaleString(
      undefined,
      range === '24h' ? { hour: '2-digit', minute: '2-digit' } : { weekday: 'short', hour: '2-digit' },
    );
  const total =
    data?.hours.reduce((sum, h) => sum + h.delivered + h.failed + h.waiting + h.in_progress, 0) ?? 0;
  return (
    <section>
      <PageTitle>Overview</PageTitle>
      {overview.isPending && <Loading what="the overview" />}
      {overview.error && <ErrorNote error={overview.error} retry={() => void overview.refetch()} />}
      {data && (
        <>
          <div className="cards">
            <div className="card">
              <span className="figure" data-testid="phones-online">
                {data.devices_online} / {data.devices_total}
              </span>
              <span>phones online</span>
            </div>
            <div className="card">
              {data.oldest_waiting ? (
                <>
                  <span className="figure">{duration(data.oldest_waiting.waiting_seconds)}</span>
                  <span>
                    oldest waiting message:{' '}
                    <Link to={`/messages/${data.oldest_waiting.id}`}>#{data.oldest_waiting.id}</Link> on
                    device {data.oldest_waiting.device_id}
                  </span>
                </>
              ) : (
                <>
                  <span className="figure">0</span>
                  <span>messages waiting past their time</span>
                </>
              )}
            </div>
            <div className="card">
              <span className="figure">{total.toLocaleString()}</span>
              <span>messages in the {range === '24h' ? 'last 24 hours' : 'last 7 days'}</span>
            </div>
          </div>
          <fieldset className="tabs">
            <legend>Period</legend>
            {RANGES.map(([value, label]) => (
              <label key={value}>
                <input type="radio" name="range" checked={range === value} onChange={() => setRange(value)} />
                {label}
              </label>
            ))}
          </fieldset>
          <h2>Messages per hour by outcome</h2>
          <figure className="chart" aria-label={`Messages per hour by outcome, ${range}`}>
            <ResponsiveContainer width="100%" height={280}>
              <BarChart data={data.hours} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="hour" tickFormatter={hourLabel} minTickGap={24} />
                <YAxis allowDecimals={false} width={48} />
                <Tooltip labelFormatter={(label) => new Date(String(label)).toLocaleString()} />
                <Legend />
                <Bar
                  dataKey="delivered"
                  name="Delivered"
                  stackId="a"
                  fill={COLOURS.delivered}
                  isAnimationActive={false}
                />
                <Bar
                  dataKey="in_progress"
                  name="In progress"
                  stackId="a"
                  fill={COLOURS.in_progress}
                  isAnimationActive={false}
                />
                <Bar
                  dataKey="waiting"
                  name="Waiting"
                  stackId="a"
                  fill={COLOURS.waiting}
                  isAnimationActive={false}
                />
                <Bar
                  dataKey="failed"
                  name="Failed"
                  stackId="a"
                  fill={COLOURS.failed}
                  isAnimationActive={false}
                />
              </BarChart>
            </ResponsiveContainer>
          </figure>
          <h2>Failures by code</h2>
          {data.failures_by_code.length === 0 ? (
            <Empty>No failures in this period.</Empty>
          ) : (
            <figure className="chart" aria-label="Failures by status code">
              <ResponsiveContainer width="100%" height={40 + data.failures_by_code.length * 36}>
                <BarChart data={data.failures_by_code} layout="vertical" margin={{ left: 16, right: 16 }}>
                  <XAxis type="number" allowDecimals={false} />
                  <YAxis type="category" dataKey="status_title" width={200} />
                  <Tooltip />
                  <Bar dataKey="count" name="Messages" fill={COLOURS.failed} isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </figure>
          )}
        </>
      )}
    </section>
  );
}
