import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { formatJson } from './commands/print.js';
import { checkServeNumbers } from './commands/serve-flags.js';
import { isOfsError, ofsError, type ErrorKind } from './errors.js';
import { isTritonserverInvocation, translateTritonserverArgv } from './commands/tritonserver-argv.js';
import { DEFAULT_HTTP_LIMITS } from './server/http/limits.js';
import { CLASSIFY_DEFAULT_PARAMETER } from './commands/classify-choice.js';
import { DEFAULT_MAX_INPUT_PIXELS } from './image/image-shape.js';

/**
 * Every command and flag in one place. Each action lazily imports its command module and calls a plain
 * async function; this file is the only place that catches, prints and picks the exit code.
 * Flag names follow tritonserver (serve) and perf_analyzer (perf), which our users already know.
 */

/** Exit codes: 0 ok, 1 the command ran and found problems or failed, 2 bad usage, 3 server unreachable. */
const EXIT_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  INVALID_ARG: 1,
  NOT_FOUND: 1,
  ALREADY_EXISTS: 1,
  UNSUPPORTED: 1,
  UNAVAILABLE: 3,
  INTERNAL: 1,
  CANCELLED: 1,
};
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  stderr: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};

function packageVersion(): string {
  const pkg = createRequire(import.meta.url)('../package.json') as { version: string };
  return pkg.version;
}

function int(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got '${value}'`);
    return n;
  };
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got '${value}'`);
    return n;
  };
}

/** Keeps the text: serve's numbers are all checked together by checkServeNumbers before anything loads. */
function text(value: string): string | number {
  return value;
}

function bool(value: string | undefined): boolean {
  if (value === undefined) return true;
  if (/^(true|1|on|yes)$/i.test(value)) return true;
  if (/^(false|0|off|no)$/i.test(value)) return false;
  throw new InvalidArgumentError(`expected true or false, got '${value}'`);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Both spellings of the repository flag, in order; the default only when neither is given. */
function modelStores(store: string[] | undefined, repository: string[] | undefined): string | string[] {
  const all = [...(store ?? []), ...(repository ?? [])];
  return all.length > 1 ? all : (all[0] ?? 'model_repository');
}

function printJson(io: CliIo, value: unknown): void {
  io.stdout(formatJson(value));
}

export function buildProgram(io: CliIo = defaultIo, setExit: (code: number) => void = (c) => (process.exitCode = c)): Command {
  const program = new Command('ofserve')
    .description('Serve OneFlow and ONNX image classifiers with a Triton-compatible API, and classify images against them.')
    .version(packageVersion())
    .showHelpAfterError()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  program.exitOverride();

  program
    .command('init')
    .description('scaffold model_repository/<name>/<version>/ (model, config.pbtxt, labels.txt) from a model file or folder')
    .argument('[model]', 'an ONNX file, or a OneFlow model folder written by flow.save(graph, dir)')
    .option('--name <name>', 'model name (default: from the file name)')
    .option('-o, --repository <dir>', 'model repository to write into', 'model_repository')
    .option(
      '--model-version <n>',
      'version folder; for a model that already has a config.pbtxt, adds this version and leaves the config and labels as they are',
      int('--model-version'),
      1,
    )
    .option('--labels <file>', 'labels file to copy (default: ImageNet labels for 1000 classes)')
    .option('--gpu', 'ask for a KIND_GPU instance group')
    .option('--example', 'write the ready demo repository (OneFlow ResNet-50 + colour classifier)')
    .option('--force', 'overwrite existing files')
    .option('--json', 'print the result as JSON')
    .action(async (model: string | undefined, o) => {
      const { init, formatInitReport } = await import('./commands/init.js');
      const result = await init({
        cwd: process.cwd(),
        model,
        name: o.name,
        repository: o.repository,
        version: o.modelVersion,
        labels: o.labels,
        gpu: Boolean(o.gpu),
        example: Boolean(o.example),
        force: Boolean(o.force),
      });
      if (o.json) printJson(io, result);
      else io.stdout(formatInitReport(result));
    });

  program
    .command('validate')
    .description("check a model repository against Triton's rules and each model's real inputs and outputs")
    .option('--model-store <dir>', 'model repository', 'model_repository')
    .addOption(new Option('--model-repository <dir>', 'alias of --model-store').hideHelp())
    .option('--strict', 'as `serve --strict`: KIND_GPU without a GPU and label counts that differ from the class count are errors')
    .option('--quick', 'skip the deep check (building each model in onnxruntime as serve does); config, files and model IO are still checked')
    .option('--allow-symlinks-outside-store', 'follow links in the model store whose target is outside it (refused by default)')
    .option('--json', 'print the problems as JSON')
    .action(async (o) => {
      const { validate, formatValidateReport } = await import('./commands/validate.js');
      const { probeGpu } = await import('./runtime/native/loader.js');
      const result = await validate({
        cwd: process.cwd(),
        modelStore: o.modelRepository ?? o.modelStore,
        gpuAvailable: probeGpu().available,
        strict: Boolean(o.strict),
        deep: !o.quick,
        allowLinksOutsideStore: Boolean(o.allowSymlinksOutsideStore),
      });
      if (o.json) printJson(io, result);
      else io.stdout(formatValidateReport(result));
      if (!result.ok) setExit(1);
    });

  program
    .command('serve')
    .description('start the KServe v2 / Triton-compatible server (HTTP 8000, gRPC 8001, metrics 8002)')
    .option('--model-store <dir>', 'model repository (repeatable, as tritonserver; default: model_repository)', collect)
    .addOption(new Option('--model-repository <dir>', 'alias of --model-store').hideHelp().argParser(collect))
    .option('--http-port <port>', 'HTTP port', text, 8000)
    .option('--grpc-port <port>', 'gRPC port', text, 8001)
    .option('--metrics-port <port>', 'Prometheus metrics port', text, 8002)
    .option('--http-address <addr>', 'address to listen on', '0.0.0.0')
    .option('--allow-http <bool>', 'serve HTTP', bool, true)
    .option('--allow-grpc <bool>', 'serve gRPC', bool, true)
    .option('--allow-metrics <bool>', 'serve metrics', bool, true)
    .option('--allow-console <bool>', 'serve the web console at /console on the HTTP port', bool, true)
    .addOption(new Option('--model-control-mode <mode>', 'none, poll or explicit').choices(['none', 'poll', 'explicit']).default('none'))
    .option('--load-model <name>', 'with explicit mode: model to load at start (repeatable, * for all)', collect)
    .option('--repository-poll-secs <s>', 'with poll mode: seconds between repository scans', text, 15)
    .option('--exit-on-error [bool]', 'exit if a model fails to load', bool, true)
    .option('--strict-readiness [bool]', 'ready only when every model is ready', bool, true)
    .option('--log-verbose <level>', 'verbose log level', text, 0)
    .option('--http-max-body <bytes>', 'largest infer request body (after decompression too)', text, DEFAULT_HTTP_LIMITS.maxBody)
    .option('--http-max-json <bytes>', 'largest JSON part of an infer request (all of it without binary data)', text, DEFAULT_HTTP_LIMITS.maxJson)
    .option('--http-max-json-depth <n>', 'deepest nesting of a request JSON (numeric data arrays exempt)', text, DEFAULT_HTTP_LIMITS.maxJsonDepth)
    .option('--http-max-json-values <n>', 'most JSON values a request may build (numeric data elements exempt)', text, DEFAULT_HTTP_LIMITS.maxJsonValues)
    .option('--http-max-control-body <bytes>', 'largest body of the repository and other non-infer routes', text, DEFAULT_HTTP_LIMITS.maxControlBody)
    .option('--http-max-response-body <bytes>', 'largest infer response body (before compression)', text, DEFAULT_HTTP_LIMITS.maxResponse)
    .option('--http-request-timeout-secs <s>', 'time for a whole request (headers and body) to arrive, else 408', text, DEFAULT_HTTP_LIMITS.requestTimeoutMs / 1000)
    .option('--http-body-timeout-secs <s>', 'longest pause while a request body arrives, else 408', text, DEFAULT_HTTP_LIMITS.bodyTimeoutMs / 1000)
    .option('--grpc-max-message-bytes <bytes>', 'largest gRPC message received or sent, compressed or inflated (default: --http-max-body, at most 2147483647)', text)
    .option('--exit-timeout-secs <s>', 'on SIGINT/SIGTERM, how long to wait for in-flight requests before answering them with an error and exiting (exit code 1)', text, 30)
    .option('--strict', 'refuse KIND_GPU instance groups when no GPU is usable, as Triton does, and label files whose count differs from the class count')
    .option('--model-load-thread-count <n>', 'models loaded in parallel', positiveInt('--model-load-thread-count'), 4)
    .option('--allow-symlinks-outside-store', 'follow links in the model store whose target is outside it (refused by default)')
    .option('--cache-config <cache,key=value>', 'response cache for models with response_cache { enable: true }: local,size=BYTES (repeatable)', collect)
    .option('--http-restricted-api <spec>', 'restrict HTTP API groups to requests with a header: <api>[,<api>…]:<key>=<value> (repeatable)', collect)
    .option('--grpc-restricted-protocol <spec>', 'the same for gRPC; the metadata key is triton-grpc-protocol-<key> (repeatable)', collect)
    .option('--grpc-use-ssl [bool]', 'serve gRPC over TLS (needs --grpc-server-cert and --grpc-server-key)', bool, false)
    .option('--grpc-use-ssl-mutual [bool]', 'gRPC TLS that also verifies client certificates against --grpc-root-cert', bool, false)
    .option('--grpc-server-cert <file>', 'PEM certificate (chain) of the gRPC server')
    .option('--grpc-server-key <file>', 'PEM private key of the gRPC server')
    .option('--grpc-root-cert <file>', 'PEM CA certificate that client certificates must chain to')
    .option('--metrics-config <setting=value>', 'counter_latencies, summary_latencies, histogram_latencies, summary_quantiles=<q>:<err>,… (repeatable)', collect)
    .option('--metrics-interval-ms <ms>', 'how often CPU metrics are sampled', int('--metrics-interval-ms'), 2000)
    .action(async (o) => {
      if (o.loadModel && o.modelControlMode !== 'explicit') {
        throw ofsError('OFS_BAD_ARGUMENT', "Use of '--load-model' requires setting '--model-control-mode=explicit' as well");
      }
      // Every number is checked here, before a model loads.
      const n = checkServeNumbers(o);
      const { serve } = await import('./commands/serve.js');
      const server = await serve({
        cwd: process.cwd(),
        modelStore: modelStores(o.modelStore, o.modelRepository),
        httpPort: o.allowHttp ? n.httpPort : undefined,
        grpcPort: o.allowGrpc ? n.grpcPort : undefined,
        metricsPort: o.allowMetrics ? n.metricsPort : undefined,
        address: o.httpAddress,
        controlMode: o.modelControlMode,
        loadModels: o.loadModel ?? [],
        pollSecs: n.repositoryPollSecs,
        exitOnError: o.exitOnError,
        strictReadiness: o.strictReadiness,
        logVerbose: n.logVerbose,
        grpcMaxMessageBytes: n.grpcMaxMessageBytes,
        exitTimeoutSecs: n.exitTimeoutSecs,
        bodyLimit: n.httpMaxBody,
        httpLimits: {
          maxJson: n.httpMaxJson,
          maxJsonDepth: n.httpMaxJsonDepth,
          maxJsonValues: n.httpMaxJsonValues,
          maxControlBody: n.httpMaxControlBody,
          maxResponse: n.httpMaxResponseBody,
          requestTimeoutMs: n.httpRequestTimeoutSecs * 1000,
          bodyTimeoutMs: n.httpBodyTimeoutSecs * 1000,
        },
        allowConsole: o.allowConsole,
        strict: Boolean(o.strict),
        modelLoadThreads: o.modelLoadThreadCount,
        allowLinksOutsideStore: Boolean(o.allowSymlinksOutsideStore),
        cacheConfig: o.cacheConfig,
        httpRestrictedApi: o.httpRestrictedApi,
        grpcRestrictedProtocol: o.grpcRestrictedProtocol,
        metricsConfig: o.metricsConfig,
        metricsIntervalMs: o.metricsIntervalMs,
        grpcTls: { useSsl: o.grpcUseSsl, mutual: o.grpcUseSslMutual, serverCert: o.grpcServerCert, serverKey: o.grpcServerKey, rootCert: o.grpcRootCert },
      });
      if ((await server.closed) === 'timed-out') {
        // As tritonserver when its exit timeout expires: exit 1. Executions already running in a worker
        // end on their own and the process with them; one that is stuck is not waited for long.
        process.exitCode = 1;
        endIfStuck(io);
      }
    });

  program
    .command('classify')
    .description('classify images against a running server and print the top-k classes')
    .argument('<images...>', 'image files (JPEG, PNG, WebP, …)')
    .option('--top <k>', 'classes per image', int('--top'), 3)
    .option('-m, --model <name>', 'model (default: chosen as described below)')
    .option('--model-version <v>', 'model version (default: latest ready)')
    .option('--output <name>', 'output to classify (default: the one with labels, else the only class-score-shaped one)')
    .option('-u, --url <url>', 'server URL (default: localhost:8000, or localhost:8001 with -i grpc)')
    .addOption(new Option('-i, --protocol <p>', 'http or grpc').choices(['http', 'grpc']).default('http'))
    .addOption(new Option('--normalize <mode>', 'unit: scale to [0,1] (the reference client); imagenet: also mean/std').choices(['unit', 'imagenet']).default('unit'))
    .option('--size <HxW>', 'image size for a model whose height or width is variable (-1); default 224x224')
    .addOption(
      new Option('--resize <mode>', 'squash: stretch to the input size (the reference client); center-crop: keep the aspect ratio, crop the centre')
        .choices(['squash', 'center-crop'])
        .default('squash'),
    )
    .option('--max-image-pixels <n>', 'largest photo to decode, in pixels (0: no limit)', int('--max-image-pixels'), DEFAULT_MAX_INPUT_PIXELS)
    .option('--send-image', 'send the files as they are (BYTES) to a model that decodes images on the server, e.g. resnet50_pipeline')
    .option('--json', 'print the result as JSON (docs/json.md)')
    .addHelpText(
      'after',
      `
Which model, without -m: the only READY model on the server; among several, the only one classify can
use (one FP32 image input [3,H,W] or [H,W,3], and a class output); among several of those, the one whose
config.pbtxt marks it as the default:
  parameters { key: "${CLASSIFY_DEFAULT_PARAMETER}" value { string_value: "true" } }
(\`ofserve init --example\` marks resnet50_oneflow). Otherwise classify stops and lists the candidates.
The choice, and the size used for a variable-size input, are reported on stderr (and in --json "notes").`,
    )
    .action(async (images: string[], o) => {
      const { classify, formatClassifyTable } = await import('./commands/classify.js');
      // A progress bar on a terminal when there is more than one image to wait for.
      const progress = !o.json && images.length > 1 && process.stderr.isTTY ? (await import('./ui/progress-view.js')).mountProgress('classifying', images.length) : undefined;
      const result = await classify({
        onProgress: (done, total, model) => progress?.update({ label: `classifying with ${model}`, done, total }),
        cwd: process.cwd(),
        images,
        top: o.top,
        model: o.model,
        version: o.modelVersion,
        output: o.output,
        url: o.url,
        protocol: o.protocol,
        normalize: o.normalize,
        size: o.size,
        resize: o.resize,
        maxImagePixels: o.maxImagePixels,
        sendImage: o.sendImage,
      }).finally(() => progress?.done());
      if (o.json) printJson(io, result);
      else {
        for (const note of result.notes) io.stderr(`note: ${note}`);
        io.stdout(formatClassifyTable(result));
      }
    });

  program
    .command('demo')
    .description('write the example repository, start a server on free ports, classify bundled images, stop')
    .option('--model-store <dir>', 'where to write the example repository', 'model_repository')
    .option('--json', 'print the result as JSON')
    .action(async (o) => {
      const { demo, formatDemoReport } = await import('./commands/demo.js');
      const result = await demo({ cwd: process.cwd(), modelStore: o.modelStore, log: o.json ? undefined : io.stderr });
      if (o.json) printJson(io, result);
      else io.stdout(formatDemoReport(result));
    });

  program
    .command('perf')
    .description('measure throughput and latency against a running server (perf_analyzer flags)')
    .requiredOption('-m, --model <name>', 'model name')
    .option('-x, --model-version <v>', 'model version')
    .option('-u, --url <url>', 'server URL (default: localhost:8000, or localhost:8001 with -i grpc)')
    .addOption(new Option('-i, --protocol <p>', 'http or grpc').choices(['http', 'grpc']).default('http'))
    .option('-b, --batch-size <n>', 'batch size', int('-b'), 1)
    .option('--concurrency-range <start:end:step>', 'concurrency levels', '1')
    .option('--request-count <n>', 'requests per level (instead of a time window)', int('--request-count'))
    .option('-p, --measurement-interval <ms>', 'time window per level', int('--measurement-interval'), 5000)
    .option('--shape <name:dims>', 'dims (without batch) of an input with variable dims, e.g. INPUT_0:3,224,224 (repeatable)', collect)
    .option('--stability-percentage <pct>', 'a level is stable when 3 consecutive windows agree within this %', Number, 10)
    .option('--max-trials <n>', 'most measurement windows per level', int('--max-trials'), 10)
    .option('--percentile <p>', 'report and stabilize on this latency percentile instead of the average', int('--percentile'))
    .addOption(new Option('--measurement-mode <mode>', 'time_windows or count_windows').choices(['time_windows', 'count_windows']).default('time_windows'))
    .option('--measurement-request-count <n>', 'requests per window in count_windows mode', int('--measurement-request-count'), 50)
    .option('--request-rate-range <start:end:step>', 'open-loop levels in requests/s instead of --concurrency-range')
    .addOption(new Option('--request-distribution <d>', 'spacing of requests in --request-rate-range mode').choices(['constant', 'poisson']).default('constant'))
    .option('--async', 'asynchronous calls (the report says so; requests are always issued without blocking here)')
    .option('--sync', 'synchronous calls (the default)')
    .option('--input-data <random|zero|file.json>', "input values: random (seeded), zero, or a JSON file in perf_analyzer's format", 'random')
    .option('-f, --latency-report-file <file>', 'also write the levels as CSV in perf_analyzer\'s column layout')
    .option('--plot <file.svg>', 'also write the throughput vs p50/p90/p99 latency curve as an SVG')
    .option('--json', 'print the result as JSON (with the curve under "curve")')
    .action(async (o) => {
      const { perf, formatPerfSettings, formatPerfLevel, formatPerfSummary, parseShapeArgs } = await import('./commands/perf.js');
      // Live output: an ink view on a terminal, perf_analyzer's blocks as each level ends otherwise.
      const live = o.json ? undefined : process.stdout.isTTY ? (await import('./ui/perf-view.js')).mountPerfView() : undefined;
      const result = await perf({
        model: o.model,
        version: o.modelVersion,
        url: o.url,
        protocol: o.protocol,
        batchSize: o.batchSize,
        concurrencyRange: o.concurrencyRange,
        requestCount: o.requestCount,
        measurementIntervalMs: o.measurementInterval,
        shapes: parseShapeArgs(o.shape ?? []),
        stabilityPercentage: o.stabilityPercentage,
        maxTrials: o.maxTrials,
        percentile: o.percentile,
        measurementMode: o.measurementMode,
        measurementRequestCount: o.measurementRequestCount,
        inputData: o.inputData,
        requestRateRange: o.requestRateRange,
        requestDistribution: o.requestDistribution,
        async: Boolean(o.async) && !o.sync,
        onEvent: (e) => {
          if (o.json) return;
          if (live) return live.onEvent(e);
          if (e.type === 'start') io.stdout(formatPerfSettings(e.settings));
          else if (e.type === 'level') io.stdout(formatPerfLevel(e.level, o.percentile));
        },
      }).finally(() => live?.done());
      const { formatPerfCsv, formatPerfPlot, perfCurve } = await import('./commands/perf-files.js');
      const { writeFile } = await import('node:fs/promises');
      const write = (file: string, flag: string, text: string) =>
        writeFile(file, text).catch((e: NodeJS.ErrnoException) => {
          throw ofsError('OFS_BAD_ARGUMENT', `${flag} ${file}: cannot write the file (${e.code ?? e.message})`);
        });
      if (o.latencyReportFile) await write(o.latencyReportFile, '-f', formatPerfCsv(result));
      if (o.plot) await write(o.plot, '--plot', formatPerfPlot(result));
      if (o.json) printJson(io, { ...result, curve: perfCurve(result) });
      else io.stdout(formatPerfSummary(result));
    });

  program
    .command('convert')
    .description('convert a OneFlow model folder (flow.save(graph, dir)) or an ONNX file to a standard ONNX file, optionally INT8-quantized')
    .argument('<model>', 'the OneFlow model folder (holding model.mlir) or a .onnx file')
    .addOption(new Option('--to <format>', 'target format').choices(['onnx']).default('onnx'))
    .requiredOption('-o, --output <file>', 'output file')
    .option('--force', 'overwrite the output file')
    .addOption(new Option('--quantize <type>', 'quantize weights and activations (QDQ, per-channel INT8 weights) for onnxruntime\'s integer kernels').choices(['int8']))
    .option('--calibration <dir>', 'folder of images to calibrate activation ranges on (with --quantize)')
    .addOption(new Option('--calibration-method <method>', 'how ranges are picked from calibration (default minmax)').choices(['minmax', 'percentile', 'entropy']))
    .addOption(new Option('--normalize <mode>', 'how calibration images are scaled, as in classify').choices(['unit', 'imagenet']).default('unit'))
    .option('--json', 'print the result as JSON')
    .action(async (modelDir: string, o) => {
      const { convert, formatConvertReport } = await import('./commands/convert.js');
      const result = await convert({
        cwd: process.cwd(),
        modelDir,
        to: o.to,
        output: o.output,
        force: Boolean(o.force),
        quantize: o.quantize,
        calibration: o.calibration,
        calibrationMethod: o.calibrationMethod,
        normalize: o.normalize,
      });
      if (o.json) printJson(io, result);
      else io.stdout(formatConvertReport(result));
    });

  return program;
}

/** How long a stopped server may still wait for a model execution that is running in a worker. */
const STUCK_EXECUTION_MS = 10_000;

/**
 * Ends the process if something (a model execution stuck in a worker) still holds it after
 * STUCK_EXECUTION_MS. Not process.exit(): its native teardown under an onnxruntime worker that is
 * mid-inference aborts (SIGABRT, a core dump); the default action of SIGTERM, with our handlers gone,
 * ends the process without running it.
 */
function endIfStuck(io: CliIo): void {
  setTimeout(() => {
    io.stderr('ofserve: a model execution is still running after the exit timeout: ending the process');
    process.kill(process.pid, 'SIGTERM');
  }, STUCK_EXECUTION_MS).unref();
}

const BUG_FIX = 'This is a bug in ofserve; please report it with the command you ran.';

/** What `--json` prints on failure: one object on stdout (docs/json.md). */
export interface JsonError {
  readonly error: { readonly code: string; readonly message: string; readonly fix: string | null };
}

export function errorJson(e: unknown): JsonError {
  if (isOfsError(e)) return { error: { code: e.code, message: e.message, fix: e.fix ?? null } };
  return { error: { code: 'OFS_INTERNAL', message: e instanceof Error ? e.message : String(e), fix: BUG_FIX } };
}

/**
 * Prints an error: for a person, the message then the fix on stderr (a stack only for bugs, or with
 * OFSERVE_DEBUG=1); with `json`, also one {"error": …} object on stdout for scripts. Returns the exit code.
 */
export function reportError(e: unknown, io: CliIo, json = false): number {
  if (json) io.stdout(formatJson(errorJson(e)));
  if (isOfsError(e)) {
    io.stderr(`ofserve: error: ${e.message}`);
    if (e.fix) io.stderr(`  fix: ${e.fix}`);
    if (process.env.OFSERVE_DEBUG && e.stack) io.stderr(e.stack);
    return e.code === 'OFS_BAD_ARGUMENT' ? EXIT_USAGE : EXIT_BY_KIND[e.kind];
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.stderr(`ofserve: internal error: ${err.message}`);
  io.stderr(err.stack ?? '');
  io.stderr(BUG_FIX);
  return 1;
}

/** The long flags of one command, for the tritonserver translator. */
function longFlags(program: Command, command: string): Set<string> {
  const cmd = program.commands.find((c) => c.name() === command);
  return new Set((cmd?.options ?? []).map((o) => o.long).filter((l): l is string => l !== undefined));
}

/** --json among the arguments (before a `--`), for failures that happen before commander parsed them. */
function asksForJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

export async function main(argv: string[], io: CliIo = defaultIo): Promise<void> {
  const program = buildProgram(io);
  try {
    if (isTritonserverInvocation(argv[2])) {
      // `docker run <image> tritonserver --model-store=/models …`: the same server, Triton's command line
      const translated = translateTritonserverArgv(argv.slice(3), longFlags(program, 'serve'));
      if (translated.warning) io.stderr(`ofserve: warning: ${translated.warning}`);
      argv = [...argv.slice(0, 2), ...translated.argv];
    }
    await program.parseAsync(argv);
  } catch (e) {
    const json = asksForJson(argv);
    // commander signals help/version (exitCode 0) and usage errors, a missing command included, by
    // throwing CommanderError under exitOverride; it has already printed the message on stderr.
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
      if (json && e.exitCode !== 0) {
        io.stdout(formatJson(errorJson(ofsError('OFS_BAD_ARGUMENT', e.message.replace(/^error: /, '')))));
      }
      return;
    }
    process.exitCode = reportError(e, io, json);
  }
}
