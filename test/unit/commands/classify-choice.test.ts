import { describe, expect, it } from 'vitest';
import {
  chooseModel,
  isClassifyDefault,
  looksLikeClassScores,
  outputsOf,
  pickOutput,
  type OutputInfo,
} from '../../../src/commands/classify-choice.js';
import type { OfsError } from '../../../src/errors.js';

const out = (name: string, dims: number[], labelled = false, datatype = 'FP32'): OutputInfo => ({ name, datatype, dims, labelled });
const thrown = (f: () => unknown): OfsError => {
  try {
    f();
  } catch (e) {
    return e as OfsError;
  }
  throw new Error('expected a throw');
};

describe('pickOutput', () => {
  it('takes the labelled output over the first one (embedding, logits)', () => {
    expect(pickOutput('m', [out('embedding', [512]), out('logits', [1000], true)])).toBe('logits');
  });

  it('takes the only class-score-shaped output when none is labelled', () => {
    expect(pickOutput('m', [out('features', [7, 7, 512]), out('prob', [1, 10])])).toBe('prob');
    expect(pickOutput('m', [out('mask', [1, 1], false), out('scores', [10, 1, 1])])).toBe('scores');
  });

  it('stops and lists the outputs when it cannot tell', () => {
    const e = thrown(() => pickOutput('m', [out('embedding', [512]), out('logits', [1000])]));
    expect(e.code).toBe('OFS_OUTPUT_CHOICE');
    expect(e.message).toBe("model 'm': 2 outputs are shaped like class scores and none has labels; its outputs are embedding FP32 [512], logits FP32 [1000]");
    expect(e.fix).toContain('--output NAME');
    expect(thrown(() => pickOutput('m', [out('a', [2], true), out('b', [3], true)])).message).toContain('2 outputs have labels');
    expect(thrown(() => pickOutput('m', [out('s', [], false, 'BYTES')])).message).toContain('no output is shaped like class scores');
    expect(thrown(() => pickOutput('m', [])).message).toContain('declares no outputs');
  });

  it('takes --output as asked, and names a wrong one with the real ones', () => {
    expect(pickOutput('m', [out('embedding', [512]), out('logits', [1000], true)], 'embedding')).toBe('embedding');
    const e = thrown(() => pickOutput('m', [out('logits', [1000], true)], 'prob'));
    expect(e.message).toBe("model 'm': it has no output 'prob'; its outputs are logits FP32 [1000] (labelled)");
  });
});

describe('looksLikeClassScores', () => {
  it('wants one numeric dim of more than one class', () => {
    expect(looksLikeClassScores(out('a', [1000]))).toBe(true);
    expect(looksLikeClassScores(out('a', [1, 1000]))).toBe(true);
    expect(looksLikeClassScores(out('a', [1]))).toBe(false);
    expect(looksLikeClassScores(out('a', [-1]))).toBe(false);
    expect(looksLikeClassScores(out('a', [4, 1000]))).toBe(false);
    expect(looksLikeClassScores(out('a', [10], false, 'BYTES'))).toBe(false);
  });
});

describe('outputsOf', () => {
  it('reads dims and labels from the config, and drops the batch dim from metadata without one', () => {
    const metadata = {
      name: 'm',
      versions: ['1'],
      platform: 'p',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, 8, 8] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 5] }],
    };
    expect(outputsOf(metadata, undefined)).toEqual([{ name: 'y', datatype: 'FP32', dims: [5], labelled: false }]);
    expect(
      outputsOf(metadata, { max_batch_size: 4, output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [5], label_filename: 'labels.txt' }] }),
    ).toEqual([{ name: 'y', datatype: 'FP32', dims: [5], labelled: true }]);
  });
});

describe('chooseModel', () => {
  const url = 'http://localhost:8000';

  it('takes the only usable model and says so', () => {
    const choice = chooseModel(url, [
      { name: 'adder', unusable: "it has 2 inputs", isDefault: false },
      { name: 'resnet', isDefault: false },
    ]);
    expect(choice.model).toBe('resnet');
    expect(choice.note).toContain("using model 'resnet', the only READY model that classifies images (not adder)");
  });

  it("takes the repository's marked default among several usable models and says so", () => {
    const choice = chooseModel(url, [
      { name: 'color_classifier', isDefault: false },
      { name: 'resnet50_oneflow', isDefault: true },
    ]);
    expect(choice.model).toBe('resnet50_oneflow');
    expect(choice.note).toContain("the repository's default for classify (of color_classifier, resnet50_oneflow)");
    expect(choice.note).toContain('-m NAME');
  });

  it('asks for -m, listing the candidates, when several can classify and none (or several) is marked', () => {
    const e = thrown(() => chooseModel(url, [{ name: 'a', isDefault: false }, { name: 'b', isDefault: false }, { name: 'c', unusable: 'x', isDefault: true }]));
    expect(e.code).toBe('OFS_MODEL_CHOICE');
    expect(e.message).toBe(`cannot tell which model to classify with at ${url}: 2 models can classify images: a, b`);
    const both = thrown(() => chooseModel(url, [{ name: 'a', isDefault: true }, { name: 'b', isDefault: true }]));
    expect(both.message).toContain('2 are marked ofserve_classify_default: a, b');
  });

  it('says why each model is unusable when none is', () => {
    const e = thrown(() => chooseModel(url, [{ name: 'a', unusable: 'it has 2 inputs', isDefault: false }]));
    expect(e.message).toContain('no READY model takes one image and returns class scores (a: it has 2 inputs)');
  });
});

describe('isClassifyDefault', () => {
  it('reads the config parameter', () => {
    expect(isClassifyDefault({ parameters: { ofserve_classify_default: { string_value: 'true' } } })).toBe(true);
    expect(isClassifyDefault({ parameters: { ofserve_classify_default: { string_value: 'no' } } })).toBe(false);
    expect(isClassifyDefault(undefined)).toBe(false);
  });
});
