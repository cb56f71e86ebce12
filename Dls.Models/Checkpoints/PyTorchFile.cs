using System.Globalization;
using System.IO.Compression;
using System.Numerics;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Checkpoints;

/// <summary>
/// Reads the weights of a file PyTorch's <c>torch.save</c> wrote — <c>torch.save(model.state_dict(), "model.pth")</c>
/// or a checkpoint dict such as <c>{"epoch": 3, "model_state_dict": …, "optimizer_state_dict": …}</c> — without
/// Python, into a <see cref="StateDictFile"/>.
/// </summary>
/// <remarks>
/// <para>
/// The format is the one of PyTorch 1.6 and later: a zip archive whose records sit in one top folder (any name):
/// <c>data.pkl</c>, a pickle of the saved object in which each tensor names a storage record <c>data/&lt;key&gt;</c>
/// of raw little-endian values, plus <c>version</c> and, since PyTorch 2.x, <c>byteorder</c> and
/// <c>.data/serialization_id</c>. The pickle is read by a small reader of its own that executes nothing: like
/// <c>torch.load(…, weights_only=True)</c>, it accepts only the names torch.save uses for tensors and plain
/// containers, and refuses every other Python class or function by name.
/// </para>
/// <para>
/// Every tensor reachable from the saved object becomes one entry: a state dict gives its own keys
/// (<c>fc1.weight</c>); nested dicts give dotted keys (<c>model_state_dict.fc1.weight</c>); list and tuple items
/// give their index (<c>history.0</c>); a file holding one bare tensor gives one entry named by the empty string.
/// Tensors are copied into contiguous CPU tensors of their own (views, transposes and tensors sharing one storage,
/// such as tied weights, each get their own copy) in float64, float32, float16, bfloat16, int64, int32, int16, int8,
/// uint8 or bool. Values that are not tensors are not loaded, but their dotted names are listed in
/// <see cref="StateDictFile.Metadata"/> with their value as Python would print it (<c>epoch</c> → <c>3</c>,
/// <c>optimizer_state_dict.param_groups.0.lr</c> → <c>0.001</c>, <c>best</c> → <c>None</c>; an empty container as
/// <c>{}</c>, <c>[]</c> or <c>()</c>), so a caller can see what else the file held.
/// </para>
/// </remarks>
public static class PyTorchFile
{
    /// <summary>The legacy format's first pickle, torch/serialization.py's MAGIC_NUMBER 0x1950a86a20f9469cfc6c, as LONG1 bytes.</summary>
    private static readonly byte[] LegacyMagic = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

    private const string Supported = "float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8 or bool";

    /// <summary>Containers nested deeper than this are refused (a state dict is 1–3 levels deep).</summary>
    private const int MaxDepth = 200;

    /// <summary>Values visited while flattening, at most: memo references can make a small pickle name one list exponentially often.</summary>
    private const int MaxValues = 1 << 22;

    /// <summary>
    /// Characters of all the names (and metadata texts) flattening makes, at most: memo references let a small pickle reach
    /// one long key under many names, each a string of its own.
    /// </summary>
    private const long MaxNameChars = 1 << 26;

    /// <summary>How many times its compressed size a compressed pickle record may expand to (beyond its first MiB).</summary>
    private const long MaxPickleExpansion = 64;

    /// <summary>The longest text of a tuple dict key (memo references can nest one tuple in itself exponentially often).</summary>
    private const int MaxKeyChars = 1 << 16;

    /// <summary>
    /// Each tensor gets a copy of its own, where PyTorch shares storages: tied weights double their bytes, and a view such as
    /// expand() can make a huge tensor of a tiny storage. The copies together may take this many times the storages' bytes …
    /// </summary>
    private const long MaxCopyFactor = 8;

    /// <summary>… plus this many bytes (small expanded buffers).</summary>
    private const long CopyAllowanceBytes = 64L << 20;

    /// <summary>Reads a torch.save file.</summary>
    /// <param name="path">The file, e.g. <c>model.pth</c>.</param>
    /// <returns>Its tensors (owned by the result: dispose it) and the names and values of everything else.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a torch.save zip archive (the message says when it is PyTorch's legacy format or a TorchScript
    /// archive, and how to re-save it), is truncated or malformed, holds a Python object other than tensors, numbers,
    /// strings and containers of them, holds a tensor of another type (complex, quantized, sparse…), stores
    /// big-endian data, or holds no tensor at all. The message names the file and what was expected and found.
    /// </exception>
    /// <exception cref="NotSupportedException">
    /// A storage is 2 GiB or larger, or the tensors, each copied on its own, would take more than 8 times the bytes of the
    /// storages they view plus 64 MiB (views that PyTorch shares, such as an expand() of one value).
    /// </exception>
    /// <exception cref="PlatformNotSupportedException">The machine is big-endian.</exception>
    public static StateDictFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"PyTorch file '{path}' not found.", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Read(stream, path);
    }

    /// <summary>Reads a torch.save file from a stream (from its current position; the stream is left open).</summary>
    /// <param name="stream">The file's bytes; a stream that cannot seek is first copied into memory.</param>
    /// <param name="source">What the bytes are (a file name or URL), for messages and <see cref="StateDictFile.Source"/>.</param>
    /// <returns>Its tensors (owned by the result: dispose it) and the names and values of everything else.</returns>
    /// <exception cref="ArgumentException">The stream cannot be read, or <paramref name="source"/> is empty.</exception>
    /// <exception cref="InvalidDataException">As <see cref="Read(string)"/>.</exception>
    /// <exception cref="NotSupportedException">As <see cref="Read(string)"/>.</exception>
    /// <exception cref="PlatformNotSupportedException">The machine is big-endian.</exception>
    public static StateDictFile Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        if (!stream.CanRead)
            throw new ArgumentException($"Expected a readable stream for '{source}', found one that cannot be read.", nameof(stream));
        // Storages are little-endian and copied byte for byte into tensors, which hold native-order values.
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException(
                $"Reading PyTorch file '{source}' needs a little-endian machine: its tensors are stored little-endian and copied as they are.");

        // ZipArchive takes offsets from the stream's start: a stream that does not start the file is copied.
        if (stream.CanSeek && stream.Position == 0)
            return ReadSeekable(stream, source);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        copy.Position = 0;
        return ReadSeekable(copy, source);
    }

    private static StateDictFile ReadSeekable(Stream stream, string source)
    {
        CheckStart(stream, source);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"PyTorch file '{source}' starts like a zip archive but cannot be read as one: {e.Message}", e);
        }

        using (zip)
        {
            var archive = Archive.Open(zip, source);
            object? root = TorchPickle.Load(archive.ReadDataPickle(), $"PyTorch file '{source}', record '{archive.Prefix}data.pkl'");
            var flat = new Flattener(source);
            flat.Visit(root, "", 0);
            if (flat.Tensors.Count == 0)
                throw new InvalidDataException(
                    $"PyTorch file '{source}' holds no tensors: expected a state_dict or a dict/list holding tensors, found {TorchPickle.Describe(root)}"
                    + (flat.Metadata.Keys.Any(k => k.Length > 0) ? $" ({string.Join(", ", flat.Metadata.Keys.Take(8))})." : "."));
            if (flat.Tensors.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new InvalidDataException(
                    $"PyTorch file '{source}': expected one tensor per name, found {twice.Count()} named '{twice.Key}' (a key with a '.' "
                    + "collides with a nested dict's key); rename one in Python.");
            long copyBytes = 0;
            foreach (var (name, tensor) in flat.Tensors)
                copyBytes += archive.Check(name, tensor);
            CheckCopies(flat, copyBytes, source);
            return Materialize(archive, flat, source);
        }
    }

    /// <summary>Refuses, with a message that says what the file is, anything that does not start like a zip archive.</summary>
    private static void CheckStart(Stream stream, string source)
    {
        byte[] head = new byte[512];
        int count = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = 0;
        if (count >= 4 && head.AsSpan(0, 4).SequenceEqual("PK\x03\x04"u8))
            return;
        bool legacyPickle = count >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5 && head.AsSpan(0, count).IndexOf(LegacyMagic) >= 0;
        // The oldest format, still read by torch/serialization.py's legacy_load: a tar archive ("ustar" at byte 257).
        bool legacyTar = count >= 262 && head.AsSpan(257, 5).SequenceEqual("ustar"u8);
        if (legacyPickle || legacyTar)
            throw new InvalidDataException(
                $"PyTorch file '{source}' is in PyTorch's legacy serialization format (torch.save before PyTorch 1.6, or with "
                + "_use_new_zipfile_serialization=False), which Dls does not read; expected the zip format. Re-save it in Python with "
                + "PyTorch 1.6 or later: torch.save(torch.load(path), path), or torch.save(obj, path, _use_new_zipfile_serialization=True).");
        if (count >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5)
            throw new InvalidDataException(
                $"PyTorch file '{source}' is a bare Python pickle, not a torch.save file: expected a zip archive (starting with "
                + "'PK\\x03\\x04'). Save the weights in Python with torch.save(model.state_dict(), path).");
        string found = count == 0 ? "an empty file" : $"bytes {Convert.ToHexString(head, 0, Math.Min(count, 8))}";
        throw new InvalidDataException(
            $"PyTorch file '{source}' is not a torch.save file: expected a zip archive starting with 'PK\\x03\\x04' (504B0304), found {found}.");
    }

    /// <summary>Refuses, before anything is allocated, tensors whose copies would take far more memory than the file's storages.</summary>
    private static void CheckCopies(Flattener flat, long copyBytes, string source)
    {
        long storageBytes = flat.Tensors.Select(t => t.Tensor.Storage).DistinctBy(s => s.Key, StringComparer.Ordinal)
            .Sum(s => s.Count * s.Type.ElementSize);   // each under 2 GiB (Archive.Check)
        if (copyBytes > (MaxCopyFactor * storageBytes) + CopyAllowanceBytes)
            throw new NotSupportedException(
                $"PyTorch file '{source}': its {flat.Tensors.Count} tensors would take {copyBytes} bytes as the separate copies Dls makes, for "
                + $"{storageBytes} bytes of storages; Dls reads at most {MaxCopyFactor} times the storages' bytes plus {CopyAllowanceBytes >> 20} MiB "
                + "(views that PyTorch shares, such as expand() of a few values, or one tensor named many times). Save contiguous copies in Python: "
                + "{k: v.contiguous().clone() for k, v in state_dict.items()}.");
    }

    private static StateDictFile Materialize(Archive archive, Flattener flat, string source)
    {
        // Everything made here is disposed with the scope unless StateDictFile took it: a failure leaks nothing.
        using var scope = torch.NewDisposeScope();
        var storages = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var tensors = new List<KeyValuePair<string, Tensor>>(flat.Tensors.Count);
        foreach (var (name, reference) in flat.Tensors)
        {
            TorchStorageRef storage = reference.Storage;
            if (!storages.TryGetValue(storage.Key, out Tensor? values))
            {
                values = archive.ReadStorage(storage, name);
                storages[storage.Key] = values;
            }

            ScalarType type = storage.Type.ScalarType!.Value;
            using Tensor view = values.as_strided(reference.Size, reference.Stride, reference.Offset);
            Tensor copy = torch.empty(reference.Size, type, torch.CPU);
            copy.copy_(view);
            tensors.Add(new(name, copy));
        }

        return new StateDictFile(source, tensors, flat.Metadata);
    }

    /// <summary>The records of a torch.save archive, found under its top folder.</summary>
    private sealed class Archive
    {
        private readonly Dictionary<string, ZipArchiveEntry> _records;
        private readonly string _source;

        private Archive(Dictionary<string, ZipArchiveEntry> records, string prefix, string source)
        {
            _records = records;
            Prefix = prefix;
            _source = source;
        }

        /// <summary>The top folder with its slash, e.g. <c>model/</c>.</summary>
        public string Prefix { get; }

        public static Archive Open(ZipArchive zip, string source)
        {
            IReadOnlyList<ZipArchiveEntry> entries;
            try
            {
                entries = zip.Entries;
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"PyTorch file '{source}' is a damaged zip archive: {e.Message}", e);
            }

            if (entries.Count == 0)
                throw new InvalidDataException($"PyTorch file '{source}' is not a torch.save file: expected records in the zip archive, found none.");
            // caffe2/serialize/inline_container.cc: the archive name is the folder of the first record, and every
            // record is looked up under it.
            string first = entries[0].FullName;
            int slash = first.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0)
                throw new InvalidDataException(
                    $"PyTorch file '{source}' is not a torch.save file: expected its records in one top folder ('<name>/data.pkl'), found a record '{first}'.");
            string prefix = first[..(slash + 1)];
            var records = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
            foreach (var entry in entries)
                records.TryAdd(entry.FullName, entry);

            // torch/serialization.py _is_torchscript_zip: a TorchScript archive holds constants.pkl (and code/).
            if (records.ContainsKey(prefix + "constants.pkl") || records.Keys.Any(k => k.StartsWith(prefix + "code/", StringComparison.Ordinal)))
                throw new InvalidDataException(
                    $"PyTorch file '{source}' is a TorchScript archive (torch.jit.save: it holds constants.pkl and code/), not a torch.save file "
                    + "of weights. In Python, save the weights instead: torch.save(model.state_dict(), path) — for this file, "
                    + "torch.save(torch.jit.load(path).state_dict(), path2).");
            if (!records.ContainsKey(prefix + "data.pkl"))
                throw new InvalidDataException(
                    $"PyTorch file '{source}' is a zip archive but not a torch.save file: expected a record '{prefix}data.pkl', found "
                    + $"{records.Count} record(s): {string.Join(", ", records.Keys.Take(5).Select(k => $"'{k}'"))}{(records.Count > 5 ? ", …" : "")}.");

            var archive = new Archive(records, prefix, source);
            archive.CheckByteOrder();
            return archive;
        }

        public byte[] ReadDataPickle() => ReadAll(_records[Prefix + "data.pkl"]);

        /// <summary>
        /// Checks, before anything is allocated, that a tensor can be read: a dtype Dls reads, a view that stays inside
        /// its storage, and a storage record long enough for the storage.
        /// </summary>
        /// <returns>The bytes of the tensor's own copy.</returns>
        public long Check(string name, TorchTensorRef tensor)
        {
            TorchStorageRef storage = tensor.Storage;
            TorchStorageType type = storage.Type;
            if (type.ScalarType is null)
                throw new InvalidDataException(
                    $"PyTorch file '{_source}': tensor '{name}' is stored as {type.Name} ({type.DType}), which Dls does not read; expected {Supported}.");
            long needed = Extent(tensor);
            if (needed > storage.Count)
                throw new InvalidDataException(
                    $"PyTorch file '{_source}': tensor '{name}' (size ({string.Join(", ", tensor.Size)}), stride ({string.Join(", ", tensor.Stride)}), "
                    + $"offset {tensor.Offset}) needs {needed} elements of storage '{storage.Key}', which holds {storage.Count}.");
            string record = Prefix + "data/" + storage.Key;
            if (!_records.TryGetValue(record, out ZipArchiveEntry? entry))
                throw new InvalidDataException(
                    $"PyTorch file '{_source}': expected a storage record '{record}' for tensor '{name}', found none.");
            long bytes = Bytes(storage, name);
            if (entry.Length < bytes)
                throw new InvalidDataException(
                    $"PyTorch file '{_source}': storage record '{record}' for tensor '{name}' is too short: expected {bytes} bytes "
                    + $"({storage.Count} × {type.DType}), found {entry.Length}.");
            try
            {
                return checked(tensor.Size.Aggregate(1L, (product, size) => checked(product * size)) * type.ElementSize);
            }
            catch (OverflowException)
            {
                // Strides of 0 (expand) let such a view fit a one-element storage.
                throw new InvalidDataException(
                    $"PyTorch file '{_source}': tensor '{name}' has size ({string.Join(", ", tensor.Size)}), whose bytes do not fit in 64 bits.");
            }
        }

        /// <summary>Reads a storage into a 1-D tensor of its elements (bool storages as uint8: any non-zero byte is true).</summary>
        public Tensor ReadStorage(TorchStorageRef storage, string name)
        {
            string record = Prefix + "data/" + storage.Key;
            ScalarType type = storage.Type.ScalarType!.Value;
            // A byte other than 0 or 1 in a bool tensor is undefined in libtorch; copying uint8 → bool maps it to true.
            // The tensor belongs to the caller's dispose scope, which frees it if the read fails.
            Tensor values = torch.empty(new[] { storage.Count }, type == ScalarType.Bool ? ScalarType.Byte : type, torch.CPU);
            try
            {
                using Stream data = _records[record].Open();
                data.ReadExactly(values.bytes);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
            {
                throw new InvalidDataException($"PyTorch file '{_source}': storage record '{record}' for tensor '{name}' cannot be read: {e.Message}", e);
            }

            return values;
        }

        private long Bytes(TorchStorageRef storage, string name)
        {
            long bytes;
            try
            {
                bytes = checked(storage.Count * storage.Type.ElementSize);
            }
            catch (OverflowException)
            {
                bytes = long.MaxValue;
            }

            // Tensor.bytes is one span: TorchSharp reaches a tensor's memory through it.
            if (bytes > int.MaxValue)
                throw new NotSupportedException(
                    $"PyTorch file '{_source}': storage '{storage.Key}' of tensor '{name}' is {bytes} bytes; Dls reads storages under 2 GiB.");
            return bytes;
        }

        /// <summary>How many storage elements a strided view reaches: offset + Σ (size − 1) × stride + 1, or 0 when empty.</summary>
        private long Extent(TorchTensorRef tensor)
        {
            if (tensor.Size.Any(s => s == 0))
                return 0;
            try
            {
                long last = tensor.Offset;
                for (int i = 0; i < tensor.Size.Length; i++)
                    last = checked(last + ((tensor.Size[i] - 1) * tensor.Stride[i]));
                return checked(last + 1);
            }
            catch (OverflowException)
            {
                return long.MaxValue;
            }
        }

        private void CheckByteOrder()
        {
            // torch/serialization.py _save writes sys.byteorder since PyTorch 2.1; files without it are little-endian.
            if (!_records.TryGetValue(Prefix + "byteorder", out ZipArchiveEntry? entry))
                return;
            string order = Encoding.ASCII.GetString(ReadAll(entry)).Trim();
            if (order == "little")
                return;
            if (order == "big")
                throw new InvalidDataException(
                    $"PyTorch file '{_source}' stores its tensors big-endian (record '{Prefix}byteorder' says 'big'); Dls reads little-endian "
                    + "files only. Load it with PyTorch and save it again on a little-endian machine (x86-64, ARM).");
            throw new InvalidDataException(
                $"PyTorch file '{_source}': expected record '{Prefix}byteorder' to say 'little' or 'big', found '{(order.Length > 20 ? order[..20] + "…" : order)}'.");
        }

        private byte[] ReadAll(ZipArchiveEntry entry)
        {
            if (entry.Length > Array.MaxLength)
                throw new InvalidDataException($"PyTorch file '{_source}': record '{entry.FullName}' is {entry.Length} bytes, too large to be a pickle.");
            // torch.save stores its records uncompressed. The unpickler's memory is a small multiple of the pickle's bytes,
            // so a record deflated far beyond what pickles compress to (a zip bomb) would cost memory out of all proportion
            // to the file.
            if (entry.Length > (MaxPickleExpansion * entry.CompressedLength) + (1 << 20))
                throw new InvalidDataException(
                    $"PyTorch file '{_source}': record '{entry.FullName}' expands from {entry.CompressedLength} compressed bytes to {entry.Length}; "
                    + $"expected at most {MaxPickleExpansion} times (torch.save does not compress its records).");
            try
            {
                // The length is the zip header's word, which a damaged file can inflate: the buffer grows with the bytes
                // actually there (at most one more than declared), instead of being allocated at the declared size.
                using Stream data = entry.Open();
                using var bytes = new MemoryStream((int)Math.Min(entry.Length, 1 << 16));
                byte[] chunk = new byte[1 << 16];
                int got;
                while (bytes.Length <= entry.Length && (got = data.Read(chunk, 0, (int)Math.Min(chunk.Length, entry.Length + 1 - bytes.Length))) > 0)
                    bytes.Write(chunk, 0, got);
                if (bytes.Length != entry.Length)
                    throw new InvalidDataException($"the zip archive says it holds {entry.Length} bytes, found {(bytes.Length > entry.Length ? "more" : bytes.Length.ToString(CultureInfo.InvariantCulture))}");
                return bytes.ToArray();
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
            {
                throw new InvalidDataException($"PyTorch file '{_source}': record '{entry.FullName}' cannot be read: {e.Message}", e);
            }
        }
    }

    /// <summary>Walks the unpickled object: tensors by dotted name, every other leaf as text.</summary>
    private sealed class Flattener(string source)
    {
        private readonly HashSet<object> _onPath = new(ReferenceEqualityComparer.Instance);
        private int _visited;
        private long _chars;

        public List<(string Name, TorchTensorRef Tensor)> Tensors { get; } = [];

        public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

        public void Visit(object? value, string path, int depth)
        {
            if (++_visited > MaxValues)
                throw new InvalidDataException($"PyTorch file '{source}' names more than {MaxValues} values; expected a state dict or checkpoint.");
            if (depth > MaxDepth)
                throw new InvalidDataException($"PyTorch file '{source}': expected containers nested at most {MaxDepth} deep, found deeper ones at '{path}'.");
            Count(path.Length);
            switch (value)
            {
                case TorchTensorRef tensor:
                    Tensors.Add((path, tensor));
                    return;
                case UnsupportedTensor unsupported:
                    throw new InvalidDataException(
                        $"PyTorch file '{source}': {(path.Length == 0 ? "the saved object" : $"'{path}'")} is {unsupported.What}, which Dls does not read; "
                        + $"expected dense tensors of {Supported}.");
                case PickleDict dict:
                    Children(dict, path, depth, dict.Items.Select(p => (Key(p.Key, path), p.Value)).ToList(), "{}");
                    return;
                case PickleList list:
                    Children(list, path, depth, Indexed(list.Items), "[]");
                    return;
                case PickleTuple tuple:
                    Children(tuple, path, depth, Indexed(tuple.Items), "()");
                    return;
                case PickleSet set:
                    Children(set, path, depth, Indexed(set.Items), "set()");
                    return;
                default:
                    string text = Text(value);
                    Count(text.Length);
                    Metadata[path] = text;
                    return;
            }
        }

        private void Children(object container, string path, int depth, IReadOnlyList<(string Key, object? Value)> items, string empty)
        {
            if (items.Count == 0)
            {
                if (path.Length > 0)
                    Metadata[path] = empty;
                return;
            }

            // A list that holds itself (only memo references can make one) is shown as Python shows it.
            if (!_onPath.Add(container))
            {
                Metadata[path] = empty[0] == 's' ? "{...}" : $"{empty[0]}...{empty[1]}";
                return;
            }

            foreach (var (key, item) in items)
                Visit(item, path.Length == 0 ? key : $"{path}.{key}", depth + 1);
            _onPath.Remove(container);
        }

        private static List<(string, object?)> Indexed(IReadOnlyList<object?> items) =>
            items.Select((item, i) => (i.ToString(CultureInfo.InvariantCulture), item)).ToList();

        private void Count(long chars)
        {
            _chars += chars;
            if (_chars > MaxNameChars)
                throw new InvalidDataException(
                    $"PyTorch file '{source}': its names and values come to more than {MaxNameChars} characters; expected a state dict or checkpoint.");
        }

        /// <summary>A dict key as text; a tuple key as Python prints it, e.g. <c>(1, 'a')</c>.</summary>
        private string Key(object? key, string path)
        {
            if (key is not PickleTuple)
                return Text(key);
            var text = new StringBuilder();
            AppendKey(text, key, 0, path);
            return text.ToString();
        }

        private void AppendKey(StringBuilder text, object? key, int depth, string path)
        {
            // Bounded depth (the recursion must not overflow the stack) and length (memo references can repeat a tuple
            // inside itself, doubling the text at each level).
            if (depth > MaxDepth || text.Length > MaxKeyChars)
                throw new InvalidDataException(
                    $"PyTorch file '{source}': expected dict keys of at most {MaxKeyChars} characters and tuples nested at most {MaxDepth} deep, "
                    + $"found a tuple key beyond them in '{(path.Length == 0 ? "the saved object" : path)}'.");
            if (key is not PickleTuple tuple)
            {
                text.Append(Text(key));
                return;
            }

            text.Append('(');
            for (int i = 0; i < tuple.Items.Count; i++)
            {
                if (i > 0)
                    text.Append(", ");
                AppendKey(text, tuple.Items[i], depth + 1, path);
            }

            text.Append(tuple.Items.Count == 1 ? ",)" : ")");
        }

        /// <summary>A leaf as Python's repr shows it (strings without quotes).</summary>
        private static string Text(object? value) => value switch
        {
            null => "None",
            string s => s,
            bool b => b ? "True" : "False",
            long or BigInteger => Convert.ToString(value, CultureInfo.InvariantCulture)!,
            double d => PickleFormat.Float(d, pythonStyle: true),
            byte[] bytes => PickleFormat.Bytes(bytes),
            PickleText text => text.Text,
            PickleGlobal global => global.FullName,
            TorchStorageRef storage => $"storage '{storage.Key}' ({storage.Type.Name}, {storage.Count} elements)",
            _ => TorchPickle.Describe(value),
        };
    }
}
