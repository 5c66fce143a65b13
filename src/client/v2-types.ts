/**
 * The KServe v2 JSON bodies, under the client's names. The definitions live in src/protocol/v2-types.ts
 * (shared with the server); this file only gives the client API the tritonclient-like names.
 */
export type {
  V2ParameterValue as ParameterValue,
  V2Parameters as Parameters,
  V2InferInput as InferInputJson,
  V2RequestedOutput as InferRequestedOutputJson,
  V2InferRequest as InferRequestJson,
  V2InferOutput as InferOutputJson,
  V2InferResponse as InferResponseJson,
  V2ServerMetadata as ServerMetadata,
  V2TensorMetadata as TensorMetadata,
  V2ModelMetadata as ModelMetadata,
  V2ModelState as ModelState,
  V2RepositoryIndexEntry as RepositoryIndexEntry,
  V2StatisticDuration as StatisticDuration,
  V2InferStatistics as InferStatisticsJson,
  V2ModelStatistics as ModelStatisticsJson,
  V2StatisticsResponse as InferenceStatisticsResponse,
} from '../protocol/v2-types.js';
