// Archives as inputs: .zip and .tar (plain, .gz/.tgz, .zst/.tzst, .xz/.txz, .bz2) read
// directly with libarchive, never extracted to disk.
//
// Takes: an archive file and the name it is known by (its key: "in/docs.zip"), the member
// kinds wanted. Gives: one Source per wanted member, in archive order (key
// "in/docs.zip/dir/a.pdf", outputs "in/docs/dir/a.<ext>"), and a member's bytes.
//
// Safety: only regular-file members are read. Links (symbolic or hard), devices, pipes and
// members whose names could leave the output folder (absolute, "..", a drive letter, a
// backslash, control characters) are skipped with a warning naming archive and member.
// Archives inside archives are not expanded (one warning per archive says how many).
// Reading: one forward reader per archive, shared by the workers; see read_member.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cli.hpp"

namespace dcli {

// By name: .zip, .tar, .tar.gz, .tgz, .tar.zst, .tzst, .tar.xz, .txz, .tar.bz2, .tbz2
// (case-insensitive).
bool is_archive(const std::filesystem::path& p);
// The name without its archive extension(s): "a/docs.tar.gz" -> "a/docs".
std::string archive_stem(const std::string& name);

// A member name made safe, or "" with `why` set when it must be skipped. "./" components
// and repeated slashes are dropped; nothing else is rewritten.
std::string clean_member_name(const std::string& raw, std::string& why);

// Appends the archive's wanted members (by extension) to `out`, reading its headers once.
// `key` is the archive's ledger name, `stem` its output name without extension. A member
// named twice (tar appends updates) is taken from its last copy, as extraction would. An
// archive that cannot be opened or is damaged appends a Source with `error` set after the
// members found before the damage: reading it fails with that message, so the batch records
// the archive as failed and goes on.
void list_archive(const std::filesystem::path& file, const std::string& key, const std::string& stem,
                  const std::vector<Kind>& wanted, std::vector<Source>& out);

// The members a batch will read, in the order its workers take them. A reader that reads
// past one of them before it is asked for (workers race by a few documents) keeps its bytes
// for the worker that asks next, instead of reopening the archive: each archive is read once
// from start to end, whatever the number of members or workers. Without this call, asking
// for an earlier member reopens the archive.
void expect_members(const std::vector<Source>& sources);

// A member's bytes, capped at max_bytes (the header's size is not trusted: the cap counts
// what is decompressed). Thread-safe. Throws std::runtime_error naming archive and member
// (damaged data, over the cap, the archive changed since it was listed, src.error).
std::string read_member(const Source& src, uint64_t max_bytes);

}  // namespace dcli
