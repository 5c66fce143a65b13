import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { ERRORS, isOfsError, ofsError } from '../../errors.js';
import { CONFIG_FILENAME } from '../config/constants.js';
import type { ModelConfig } from '../config/model-config.js';
import { parsePbtxt } from '../config/pbtxt-parse.js';
import type { Problem } from '../problem.js';
import { readLabels } from './labels.js';
import { resolveInsideModelDir } from './paths.js';
import { choosePayload, type EntryType, type ModelPayload } from './payload.js';
import { parseVersionDirName } from './version-dirs.js';
import { selectVersions } from './version-policy.js';

/**
 * Reads a model store the way Triton's repository manager does (one folder per model, config.pbtxt,
 * numeric version folders, a payload per version, label files) without loading any model. Everything
 * that is wrong on disk becomes a Problem on the model, so one bad model never hides the others;
 * only a missing store throws.
 */

export interface ScannedVersion {
  readonly version: number;
  /** Absolute path of the version folder. */
  readonly dir: string;
  /** Undefined when the payload is missing (a problem says why) or the backend is unknown. */
  readonly payload?: ModelPayload;
}

export interface LabelFile {
  /** The output whose label_filename names this file. */
  readonly output: string;
  readonly outputIndex: number;
  /** As shown to the user (relative to the store). */
  readonly file: string;
  readonly path: string;
  /** Undefined when the file could not be read (a problem says why). */
  readonly labels?: readonly string[];
}

export interface ScannedModel {
  /** The folder name, which is the model name. */
  readonly name: string;
  readonly dir: string;
  /** config.pbtxt as shown to the user. */
  readonly configFile: string;
  /** As written (not normalized); undefined when missing or unparseable. */
  readonly config?: ModelConfig;
  /** Every numeric version folder, ascending. */
  readonly versions: readonly ScannedVersion[];
  /** The versions the version policy serves, ascending. */
  readonly selectedVersions: readonly number[];
  readonly labels: readonly LabelFile[];
  readonly problems: readonly Problem[];
}

export interface ScanOptions {
  /**
   * Follow links (model folder, config, version folder, payload, label file) whose target is outside
   * the store. Off by default: a store is often writable by more people than the files the server can
   * read, and a linked labels.txt would hand any file's lines to every client.
   */
  readonly allowLinksOutsideStore?: boolean;
}

export interface RepositoryScan {
  readonly storeDir: string;
  readonly models: readonly ScannedModel[];
}

/** Display path: relative to the store, with '/' on every platform. */
const show = (...parts: string[]): string => parts.join('/');

async function entryTypes(dir: string): Promise<Map<string, EntryType>> {
  const out = new Map<string, EntryType>();
  for (const e of await readdir(dir, { withFileTypes: true })) {
    let isDir = e.isDirectory();
    if (e.isSymbolicLink()) isDir = await stat(path.join(dir, e.name)).then((s) => s.isDirectory(), () => false);
    out.set(e.name, isDir ? 'dir' : 'file');
  }
  return out;
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Why a read failed, in words: EISDIR / EACCES as a phrase, else the first line of the message. */
function readFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EISDIR') return 'it is a folder, not a file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ERR_INVALID_ARG_VALUE') return 'the file name contains a NUL byte';
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

async function readConfig(dir: string, name: string, file: string, problems: Problem[]): Promise<ModelConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, CONFIG_FILENAME), 'utf8');
  } catch (e) {
    // A folder named config.pbtxt or a file without read permission is this model's problem, not a
    // reason to abandon the scan of the whole store.
    problems.push(
      isMissing(e)
        ? { severity: 'error', file, message: ERRORS.OFS_CONFIG_MISSING.message(name), fix: ERRORS.OFS_CONFIG_MISSING.fix }
        : { severity: 'error', file, message: `cannot read ${file}: ${readFailure(e)}`, fix: 'make config.pbtxt a readable text file' },
    );
    return undefined;
  }
  try {
    return parsePbtxt(text, file);
  } catch (e) {
    if (!isOfsError(e)) throw e;
    problems.push({ severity: 'error', file, message: e.message, fix: e.fix });
    return undefined;
  }
}

async function readLabelFiles(dir: string, name: string, config: ModelConfig | undefined, problems: Problem[], links: LinkGuard): Promise<LabelFile[]> {
  const files: LabelFile[] = [];
  const configFile = show(name, CONFIG_FILENAME);
  const outputs = config?.output ?? [];
  for (let i = 0; i < outputs.length; i++) {
    const { name: output, label_filename: filename } = outputs[i];
    if (!filename || !output) continue;
    const field = `output[${i}].label_filename`;
    let labelPath: string;
    try {
      labelPath = resolveInsideModelDir(dir, filename);
    } catch (e) {
      if (!isOfsError(e)) throw e;
      problems.push({ severity: 'error', file: configFile, field, message: e.message, fix: e.fix });
      continue;
    }
    const file = show(name, ...path.relative(dir, labelPath).split(path.sep));
    const escape = await links.check(labelPath, file);
    if (escape) {
      problems.push({ ...escape, file: configFile, field });
      files.push({ output, outputIndex: i, file, path: labelPath });
      continue;
    }
    try {
      const text = await readFile(labelPath, 'utf8');
      files.push({ output, outputIndex: i, file, path: labelPath, labels: readLabels(text) });
    } catch (e) {
      const missing = isMissing(e) || (e as NodeJS.ErrnoException).code === 'EISDIR';
      problems.push({
        severity: 'error',
        file: configFile,
        field,
        message: missing ? `label file ${file} of output '${output}' not found` : `cannot read label file ${file} of output '${output}': ${readFailure(e)}`,
        fix: `write ${file} with one label per line (line i names class i), or remove label_filename`,
      });
      files.push({ output, outputIndex: i, file, path: labelPath });
    }
  }
  return files;
}

async function scanVersions(
  dir: string,
  name: string,
  config: ModelConfig | undefined,
  problems: Problem[],
  links: LinkGuard,
): Promise<{ versions: ScannedVersion[]; selected: number[] }> {
  const found: number[] = [];
  for (const [entry, type] of [...(await entryTypes(dir))].sort(([a], [b]) => a.localeCompare(b))) {
    if (type !== 'dir') continue;
    const parsed = parseVersionDirName(entry);
    if (parsed.kind === 'version') found.push(parsed.version);
    else if (parsed.kind === 'ignored') {
      problems.push({ severity: 'warning', file: show(name, entry), message: parsed.warning, fix: 'version folders are named 1, 2, 3, …' });
    }
  }
  found.sort((a, b) => a - b);
  if (found.length === 0) {
    problems.push({
      severity: 'error',
      file: show(name),
      message: `model '${name}' has no version folder: the model goes in a numeric folder such as ${show(name, '1')}/`,
      fix: ERRORS.OFS_NO_VERSIONS.fix,
    });
  }
  const configFile = show(name, CONFIG_FILENAME);
  const policy = selectVersions(config?.version_policy, found, { model: name, file: configFile });
  problems.push(...policy.problems);

  // A config is user input: default_model_filename must not lead out of the version folder.
  let payloadNameOk = true;
  if (config?.default_model_filename) {
    try {
      resolveInsideModelDir(path.join(dir, '1'), config.default_model_filename);
    } catch (e) {
      if (!isOfsError(e)) throw e;
      problems.push({ severity: 'error', file: configFile, field: 'default_model_filename', message: e.message, fix: e.fix });
      payloadNameOk = false;
    }
  }

  const versions: ScannedVersion[] = [];
  for (const version of found) {
    const vdir = path.join(dir, String(version));
    const label = show(name, String(version));
    const served = policy.versions.includes(version);
    const vdirEscape = await links.check(vdir, label);
    if (vdirEscape) {
      if (served) problems.push(vdirEscape);
      versions.push({ version, dir: vdir });
      continue;
    }
    const choice = payloadNameOk ? choosePayload(config, await entryTypes(vdir), label) : undefined;
    if (!choice) {
      versions.push({ version, dir: vdir });
    } else if (!choice.found) {
      // Versions the policy does not serve are never loaded, so their payload is not the user's problem.
      if (served) {
        problems.push({
          severity: 'error',
          file: label,
          ...(config?.default_model_filename ? { field: 'default_model_filename' } : {}),
          message: choice.message,
          fix: choice.fix,
        });
      }
      versions.push({ version, dir: vdir });
    } else {
      const payloadPath = path.join(vdir, ...choice.relPath.split('/'));
      const file = show(label, choice.relPath);
      const payloadEscape = await links.check(payloadPath, file);
      if (payloadEscape) {
        if (served) problems.push(payloadEscape);
        versions.push({ version, dir: vdir });
      } else {
        versions.push({ version, dir: vdir, payload: { kind: choice.kind, path: payloadPath, file } });
      }
    }
  }
  return { versions, selected: policy.versions };
}

/**
 * Where a link leads: a problem for a path whose real location is outside the store (unless allowed).
 * Paths that do not exist pass: the code that reads them reports that in its own words.
 */
class LinkGuard {
  readonly #storeDir: string;
  readonly #allow: boolean;
  #storeReal: Promise<string> | undefined;

  constructor(storeDir: string, allow: boolean) {
    this.#storeDir = path.resolve(storeDir);
    this.#allow = allow;
  }

  async check(target: string, file: string): Promise<Problem | undefined> {
    if (this.#allow) return undefined;
    const real = await realpath(target).catch(() => undefined);
    if (real === undefined) return undefined;
    this.#storeReal ??= realpath(this.#storeDir).catch(() => this.#storeDir);
    const store = await this.#storeReal;
    const rel = path.relative(store, real);
    if (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel)) return undefined;
    const spec = ERRORS.OFS_LINK_OUTSIDE_STORE;
    return { severity: 'error', file, message: spec.message(file, real), fix: spec.fix ?? '' };
  }
}

/** Scans one model folder of the store. */
export async function scanModel(storeDir: string, name: string, opts: ScanOptions = {}): Promise<ScannedModel> {
  const dir = path.join(storeDir, name);
  const problems: Problem[] = [];
  const configFile = show(name, CONFIG_FILENAME);
  const links = new LinkGuard(storeDir, opts.allowLinksOutsideStore ?? false);
  const dirEscape = await links.check(dir, show(name));
  if (dirEscape) return { name, dir, configFile, versions: [], selectedVersions: [], labels: [], problems: [dirEscape] };
  const configEscape = await links.check(path.join(dir, CONFIG_FILENAME), configFile);
  const config = configEscape ? undefined : await readConfig(dir, name, configFile, problems);
  if (configEscape) problems.push(configEscape);
  const { versions, selected } = await scanVersions(dir, name, config, problems, links);
  const labels = await readLabelFiles(dir, name, config, problems, links);
  return { name, dir, configFile, config, versions, selectedVersions: selected, labels, problems };
}

/**
 * Scans every model folder of `storeDir` (sorted by name). Folders whose name starts with '.' are left
 * out: editors and notebooks leave them behind (.ipynb_checkpoints) and they are never models.
 * Throws OFS_REPOSITORY_NOT_FOUND when the store is not a folder.
 */
export async function scanRepository(storeDir: string, opts: ScanOptions = {}): Promise<RepositoryScan> {
  const root = path.resolve(storeDir);
  const models: ScannedModel[] = [];
  for (const name of await listModelFolders(root)) models.push(await scanModel(root, name, opts));
  return { storeDir: root, models };
}

/**
 * The model folder names of a store, sorted: sub-folders and links to folders, hidden ones left out.
 * `validate` and `serve` both list through here, so they agree on which models a store holds.
 * Throws OFS_REPOSITORY_NOT_FOUND when the store is not a folder.
 */
export async function listModelFolders(storeDir: string): Promise<string[]> {
  const isDir = await stat(storeDir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw ofsError('OFS_REPOSITORY_NOT_FOUND', storeDir);
  return [...(await entryTypes(storeDir))]
    .filter(([n, t]) => t === 'dir' && !n.startsWith('.'))
    .map(([n]) => n)
    .sort();
}
