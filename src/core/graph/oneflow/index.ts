/**
 * OneFlow models saved with `flow.save(graph, dir)`, read and written without OneFlow: model.mlir
 * (the forward job, OneFlow MLIR dialect) beside one `<variable>/meta` + `<variable>/out` folder per
 * variable, to and from the graph IR.
 */
export {
  type OneflowFolderKind,
  detectOneflowFolder,
  inspectOneflowModel,
  loadOneflowModel,
  readOneflowGraphIO,
} from './folder.js';
export { type ImportOptions, type ImportResult, importOneflowJob, jobIO, firstJob } from './importer.js';
export type { MlirAttr, MlirJob, MlirModule, MlirOp, MlirType } from './mlir-ast.js';
export { parseMlir } from './mlir-parser.js';
export { type VariableMeta, formatVariableMeta, parseVariableMeta } from './variable-meta.js';
export { type VariableDecl, jobVariables, readVariable, writeVariable } from './variables.js';
export { type WriteOneflowOptions, formatOneflowMlir, writeOneflowModel } from './writer.js';
