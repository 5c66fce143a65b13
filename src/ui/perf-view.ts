import { createElement as h, useEffect, useState, type ReactElement } from 'react';
import { Box, Text, render, type Instance } from 'ink';
import type { PerfEvent, PerfLevel, PerfSettings, PerfWindow } from '../commands/perf.js';

/**
 * perf's live terminal view (ink): the settings at once, a live line for the level being measured
 * (window n of at most --max-trials, a progress bar of the time window, the last window's numbers),
 * and the finished levels as a table. The state is a pure reduction of perf's events.
 */

export interface PerfViewState {
  readonly settings?: PerfSettings;
  readonly levels: readonly PerfLevel[];
  readonly current?: {
    readonly concurrency: number;
    readonly requestRate?: number;
    readonly trial: number;
    readonly maxTrials: number;
    /** Date.now() when the window started. */
    readonly startedAt: number;
    readonly last?: PerfWindow;
  };
}

export const initialPerfViewState: PerfViewState = { levels: [] };

export function reducePerfView(state: PerfViewState, event: PerfEvent): PerfViewState {
  switch (event.type) {
    case 'start':
      return { ...state, settings: event.settings };
    case 'window-start':
      return {
        ...state,
        current: {
          concurrency: event.concurrency,
          ...(event.requestRate !== undefined ? { requestRate: event.requestRate } : {}),
          trial: event.trial,
          maxTrials: event.maxTrials,
          startedAt: event.at,
          last: state.current?.concurrency === event.concurrency ? state.current.last : undefined,
        },
      };
    case 'window':
      return state.current ? { ...state, current: { ...state.current, last: event.window } } : state;
    case 'level':
      return { ...state, levels: [...state.levels, event.level], current: undefined };
  }
}

const BAR_WIDTH = 20;

export function progressBar(fraction: number, width = BAR_WIDTH): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

const pad = (text: string, width: number) => text.padStart(width);
const COLUMNS: readonly [string, number][] = [
  ['Concurrency', 11],
  ['infer/sec', 11],
  ['p50 usec', 10],
  ['p90 usec', 10],
  ['p99 usec', 10],
  ['avg usec', 10],
  ['windows', 8],
  ['stable', 7],
];

function row(cells: readonly string[]): string {
  return cells.map((c, i) => pad(c, COLUMNS[i][1])).join(' ');
}

function settingsLine(s: PerfSettings): string {
  const window =
    s.measurement.mode === 'count'
      ? `${s.measurement.requestCount} requests per level`
      : s.stabilization?.mode === 'count_windows'
        ? `windows of ${s.stabilization.windowRequests} requests`
        : `${s.measurement.intervalMs} ms windows`;
  const stability = s.stabilization ? ` · stable within ${s.stabilization.stabilityPercentage}% over 3 windows, at most ${s.stabilization.maxTrials}` : '';
  const { start, end, step } = s.requestRate ?? s.concurrency;
  const levels = s.requestRate ? `request rate ${start}:${end}:${step}/s (${s.requestRate.distribution})` : `concurrency ${start}:${end}:${step}`;
  return `${s.model}${s.version ? ` v${s.version}` : ''} at ${s.url} (${s.protocol.toUpperCase()}) · batch ${s.batchSize} · ${levels} · ${window}${stability}`;
}

export function PerfView(props: { readonly state: PerfViewState; readonly now?: number }): ReactElement {
  const { state } = props;
  const [tick, setTick] = useState(Date.now());
  useEffect(() => {
    if (props.now !== undefined || !state.current) return undefined;
    const timer = setInterval(() => setTick(Date.now()), 200);
    return () => clearInterval(timer);
  }, [props.now, state.current]);
  const now = props.now ?? tick;
  const s = state.settings;
  const latencyName = s?.percentile === undefined ? 'avg' : `p${s.percentile}`;

  const children: ReactElement[] = [h(Text, { key: 'title', bold: true }, 'ofserve perf')];
  children.push(h(Text, { key: 'settings', dimColor: true }, s ? settingsLine(s) : 'connecting…'));
  if (state.levels.length > 0) {
    children.push(h(Text, { key: 'head', bold: true }, row(COLUMNS.map(([name], i) => (i === 0 && s?.requestRate ? 'Rate' : name)))));
    for (const l of state.levels) {
      children.push(
        h(
          Text,
          { key: `level-${l.concurrency}`, color: l.stable ? undefined : 'yellow' },
          row([
            l.requestRate !== undefined ? `${l.requestRate}/s` : String(l.concurrency),
            l.throughput.toFixed(2),
            String(l.latencyUs.p50),
            String(l.latencyUs.p90),
            String(l.latencyUs.p99),
            String(l.latencyUs.avg),
            String(l.trials),
            l.stable ? 'yes' : 'NO',
          ]),
        ),
      );
    }
  }
  const c = state.current;
  if (c && s) {
    const timeWindow = s.measurement.mode === 'time' && s.stabilization?.mode !== 'count_windows';
    const fraction = timeWindow && s.measurement.mode === 'time' ? (now - c.startedAt) / s.measurement.intervalMs : undefined;
    const progress = fraction === undefined ? '' : ` ${progressBar(fraction)} ${Math.min(100, Math.round(fraction * 100))}%`;
    const last = c.last ? ` · last window ${c.last.throughput.toFixed(2)} infer/sec, ${latencyName} ${c.last.latencyUs} usec` : '';
    children.push(h(Text, { key: 'current', color: 'cyan' }, `▶ ${c.requestRate !== undefined ? `request rate ${c.requestRate}/s` : `concurrency ${c.concurrency}`} · window ${c.trial}/${c.maxTrials}${progress}${last}`));
  }
  return h(Box, { flexDirection: 'column' }, ...children);
}

/** Mounts the live view on the terminal; feed it perf's events, then unmount to leave the last frame. */
export function mountPerfView(stdout: NodeJS.WriteStream = process.stdout): { onEvent: (e: PerfEvent) => void; done: () => void } {
  let state = initialPerfViewState;
  const instance: Instance = render(h(PerfView, { state }), { stdout, patchConsole: false, exitOnCtrlC: false });
  return {
    onEvent(event) {
      state = reducePerfView(state, event);
      instance.rerender(h(PerfView, { state }));
    },
    done() {
      instance.rerender(h(PerfView, { state: { ...state, current: undefined } }));
      instance.unmount();
    },
  };
}
