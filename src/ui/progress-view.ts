import { createElement as h, type ReactElement } from 'react';
import { Box, Text, render, type Instance } from 'ink';
import { progressBar } from './perf-view.js';

/** A one-line "label [bar] done/total" for commands that work through a list (classify's images). */

export interface ProgressState {
  readonly label: string;
  readonly done: number;
  readonly total: number;
}

export function ProgressView(props: { readonly state: ProgressState }): ReactElement {
  const { label, done, total } = props.state;
  const fraction = total > 0 ? done / total : 0;
  return h(Box, {}, h(Text, { color: 'cyan' }, `${label} ${progressBar(fraction)} ${done}/${total} (${Math.round(fraction * 100)}%)`));
}

/** Mounted on stderr so stdout keeps only the result; unmount clears the line. */
export function mountProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): { update: (s: Partial<ProgressState>) => void; done: () => void } {
  let state: ProgressState = { label, done: 0, total };
  const instance: Instance = render(h(ProgressView, { state }), { stdout: stream, patchConsole: false, exitOnCtrlC: false });
  return {
    update(next) {
      state = { ...state, ...next };
      instance.rerender(h(ProgressView, { state }));
    },
    done() {
      instance.clear();
      instance.unmount();
    },
  };
}
