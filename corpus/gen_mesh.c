/* gen_mesh.c - synthetic meshes (STL, PLY, OBJ/MTL) and 3Shape HPS .dcm for the corpus.
 *
 * Included by gencase.c (one translation unit: it uses gencase's rng, doc and case
 * data).  Each generator writes the file's raw bytes into d->b and records every
 * planted identifier with d_addspan(d, start, end, class, mode) in byte offsets;
 * GEN_MESH_FILES lists the files a case gets as filespec rows {name, gen, CS_RAW, 0}.
 */

#define GEN_MESH_FILES
