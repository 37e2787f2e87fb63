/* text.h - the plain-text format (prescriptions, notes, CSV, HTML, JSON, XML, logs)
 * and the character-set helpers other formats may reuse.
 *
 * Encodings: UTF-8 (with or without BOM), UTF-16LE/BE with BOM, and Latin-1 read as
 * Windows-1252 (WHATWG Encoding "windows-1252", minus its C1 fallbacks: the five
 * undefined bytes 0x81 0x8D 0x8F 0x90 0x9D decode to U+FFFD).
 *
 * Threading: every function here is reentrant; phi_format_text is read-only.
 * Ownership: the helpers write into caller-provided buffers and allocate nothing.
 */
#ifndef PHI_TEXT_H
#define PHI_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

extern const struct phi_format phi_format_text;

#define PHI_REPLACEMENT_CHAR 0xFFFDu

/* Unicode code point of a Windows-1252 byte (0x00-0xFF); U+FFFD for the five
 * undefined bytes. */
uint32_t phi_cp1252_char(unsigned char b);

/* The Windows-1252 byte of a code point, or -1 when it has none. */
int phi_cp1252_byte(uint32_t cp);

/* Write cp as UTF-8 into out (room for 4 bytes) and return its length (1..4).
 * Surrogates and values above U+10FFFF are written as U+FFFD. */
size_t phi_utf8_put(uint32_t cp, unsigned char *out);

/* Decode one UTF-8 sequence from p[0..n), n > 0.  Returns the bytes consumed (1..4)
 * and sets *cp; an invalid or incomplete sequence consumes 1 byte and gives U+FFFD. */
size_t phi_utf8_get(const unsigned char *p, size_t n, uint32_t *cp);

/* 1 when p[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF), else 0.  With allow_truncated, an incomplete but so far valid
 * sequence at the very end is accepted (a head cut in the middle of a character). */
int phi_utf8_valid(const unsigned char *p, size_t n, int allow_truncated);

/* Decode Windows-1252 bytes src[0..n) to UTF-8 into dst, which must hold 3 * n bytes.
 * When map is not NULL it receives one entry per output byte plus one (3 * n + 1
 * entries suffice): map[i] = offset in src of the byte that produced dst[i], and
 * map[returned] = n.  Returns the number of bytes written. */
size_t phi_cp1252_to_utf8(const unsigned char *src, size_t n, unsigned char *dst,
                          uint32_t *map);

/* Decode UTF-16 (no BOM processing: a BOM decodes to U+FEFF) src[0..n) to UTF-8 into
 * dst, which must hold 3 * (n / 2) bytes; unpaired surrogates become U+FFFD.  map as
 * for phi_cp1252_to_utf8 (3 * (n / 2) + 1 entries suffice; every byte of a character
 * maps to the offset of its first code unit).  Returns the number of bytes written,
 * or PHI_EFORMAT when n is odd. */
long phi_utf16_to_utf8(const unsigned char *src, size_t n, int big_endian,
                       unsigned char *dst, uint32_t *map);

#endif
