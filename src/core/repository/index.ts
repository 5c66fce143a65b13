/** The model repository layer: scan a store, pick versions and payloads, read labels, validate. */
export { scanRepository, scanModel, listModelFolders, type RepositoryScan, type ScannedModel, type ScannedVersion, type LabelFile } from './scan.js';
export { selectVersions, type VersionPolicyContext } from './version-policy.js';
export { parseVersionDirName, type VersionDirName } from './version-dirs.js';
export { resolveInsideModelDir } from './paths.js';
export { readLabels, hasCrlf } from './labels.js';
export { choosePayload, payloadKindOfConfig, type ModelPayload, type PayloadKind, type PayloadChoice } from './payload.js';
export { readModelIO } from './model-io.js';
export { checkConfig, checkModelName, checkBackend, checkIoDeclarations, checkOneflowIoNames, checkInstanceGroups, type RuleContext } from './config-rules.js';
export { checkAgainstGraph, type GraphRuleContext } from './graph-rules.js';
export { checkLabels, type LabelFileFacts } from './label-rules.js';
export { validateRepository, validateModel, validateModelGraphs, type ValidateOptions, type ModelReport, type RepositoryReport } from './validate.js';
