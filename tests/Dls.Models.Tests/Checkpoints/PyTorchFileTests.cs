using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Checkpoints;

/// <summary>
/// PyTorchFile against files written by real PyTorch (TestData/pytorch/make_golden.py, PyTorch 1.13) and expected
/// values written by the same script; bad inputs are golden files or copies of them with one thing changed.
/// </summary>
public sealed class PyTorchFileTests : IDisposable
{
    private static readonly string Golden = Path.Combine(AppContext.BaseDirectory, "TestData", "pytorch");

    private static readonly Lazy<JsonObject> Expected = new(() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Golden, "expected.json")))!["files"]!.AsObject());

    private static readonly Dictionary<string, ScalarType> DTypes = new()
    {
        ["float64"] = ScalarType.Float64, ["float32"] = ScalarType.Float32, ["float16"] = ScalarType.Float16,
        ["bfloat16"] = ScalarType.BFloat16, ["int64"] = ScalarType.Int64, ["int32"] = ScalarType.Int32,
        ["int16"] = ScalarType.Int16, ["int8"] = ScalarType.Int8, ["uint8"] = ScalarType.Byte, ["bool"] = ScalarType.Bool,
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("dls-pth-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("state_dict.pth")]
    [InlineData("state_dict_protocol4.pth")]
    [InlineData("state_dict_protocol5.pth")]
    [InlineData("checkpoint.pth")]
    [InlineData("shared.pth")]
    [InlineData("dtypes.pth")]
    [InlineData("containers.pth")]
    [InlineData("tensor.pth")]
    public void Read_GoldenFile_EveryTensorAndValueAsPyTorchSaved(string name)
    {
        JsonObject expected = Expected.Value[name]!.AsObject();

        using var file = PyTorchFile.Read(Path.Combine(Golden, name));

        JsonObject tensors = expected["tensors"]!.AsObject();
        Assert.Equal(tensors.Select(t => t.Key).Order(StringComparer.Ordinal), file.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, node) in tensors)
        {
            Tensor actual = file.Tensors[key];
            Assert.Equal(DTypes[node!["dtype"]!.GetValue<string>()], actual.dtype);
            Assert.Equal(node["shape"]!.AsArray().Select(d => d!.GetValue<long>()), actual.shape);
            Assert.True(actual.is_contiguous(), $"'{key}' must be contiguous.");
            Assert.Equal(DeviceType.CPU, actual.device_type);
            AssertValues(key, node["values"]!.AsArray(), actual);
        }

        var metadata = expected["metadata"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
        Assert.Equal(metadata.OrderBy(p => p.Key, StringComparer.Ordinal), file.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(Path.Combine(Golden, name), file.Source);
    }

    [Fact]
    public void Read_StateDict_KeysAreTheModuleAttributeNames()
    {
        using var file = PyTorchFile.Read(Path.Combine(Golden, "state_dict.pth"));

        Assert.Equal(
            [
                "bn.bias", "bn.num_batches_tracked", "bn.running_mean", "bn.running_var", "bn.weight", "fc1.bias", "fc1.weight",
                "gru.bias_hh_l0", "gru.bias_hh_l0_reverse", "gru.bias_ih_l0", "gru.bias_ih_l0_reverse",
                "gru.weight_hh_l0", "gru.weight_hh_l0_reverse", "gru.weight_ih_l0", "gru.weight_ih_l0_reverse",
            ],
            file.Describe().Select(e => e.Name));
        Assert.Equal(new long[] { 6, 3 }, file.Tensors["gru.weight_ih_l0_reverse"].shape);
        Assert.Equal(ScalarType.Int64, file.Tensors["bn.num_batches_tracked"].dtype);
        Assert.Equal(7L, file.Tensors["bn.num_batches_tracked"].item<long>());
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Read_Checkpoint_NestedKeysDottedAndOtherValuesInMetadata()
    {
        using var file = PyTorchFile.Read(Path.Combine(Golden, "checkpoint.pth"));

        Assert.Contains("model_state_dict.weight", file.Tensors.Keys);
        Assert.Contains("optimizer_state_dict.state.0.exp_avg", file.Tensors.Keys);
        Assert.Equal("3", file.Metadata["epoch"]);
        Assert.Equal("0.25", file.Metadata["loss"]);
        Assert.Equal("tiny", file.Metadata["name"]);
        Assert.Equal("0.5", file.Metadata["history.0"]);
        Assert.Equal("None", file.Metadata["best"]);
        Assert.Equal("{}", file.Metadata["extras"]);
        Assert.Equal("0.001", file.Metadata["optimizer_state_dict.param_groups.0.lr"]);
        Assert.Equal("1e-08", file.Metadata["optimizer_state_dict.param_groups.0.eps"]);
        Assert.Equal("False", file.Metadata["optimizer_state_dict.param_groups.0.amsgrad"]);
    }

    [Fact]
    public void Read_SharedStorage_EveryViewCopiedIntoATensorOfItsOwn()
    {
        using var file = PyTorchFile.Read(Path.Combine(Golden, "shared.pth"));
        Tensor encoder = file.Tensors["encoder.weight"], decoder = file.Tensors["decoder.weight"];

        Assert.True(Same(encoder, decoder));
        using (var t = encoder.t())
            Assert.True(Same(file.Tensors["transposed"], t));
        using (var rows = encoder[1..3])
            Assert.True(Same(file.Tensors["rows"], rows));
        using (var column = encoder[.., 1])
            Assert.True(Same(file.Tensors["column"], column));
        Assert.Equal([1f, 3f, 5f, 7f, 9f], file.Tensors["odd"].data<float>().ToArray());
        Assert.Empty(file.Tensors["scalar"].shape);
        Assert.Equal(4f, file.Tensors["scalar"].item<float>());

        // Tied in PyTorch, independent here: each entry owns its memory.
        encoder.add_(1);
        Assert.False(Same(encoder, decoder));
        using (var t = decoder.t())
            Assert.True(Same(file.Tensors["transposed"], t));
    }

    [Fact]
    public void Read_NonSeekableStream_SameAsFile()
    {
        string path = Path.Combine(Golden, "checkpoint.pth");
        using var expected = PyTorchFile.Read(path);
        using var stream = new ForwardOnlyStream(File.ReadAllBytes(path));

        using var file = PyTorchFile.Read(stream, "download");

        Assert.Equal("download", file.Source);
        AssertSame(expected, file);
    }

    [Fact]
    public void Read_StreamAfterOtherData_ReadsFromItsPosition()
    {
        string path = Path.Combine(Golden, "state_dict.pth");
        using var expected = PyTorchFile.Read(path);
        using var stream = new MemoryStream();
        stream.Write("header"u8);
        stream.Write(File.ReadAllBytes(path));
        stream.Position = 6;

        using var file = PyTorchFile.Read(stream, "embedded");

        AssertSame(expected, file);
        Assert.True(stream.CanRead, "The stream is left open.");
    }

    [Fact]
    public void Read_PyTorch2Layout_ByteOrderAndSerializationIdRecordsAccepted()
    {
        string path = Rewrite("state_dict.pth", "other-name.pt", add:
        [
            ("state_dict/byteorder", "little"u8.ToArray()),
            ("state_dict/.data/version", "3\n"u8.ToArray()),
            ("state_dict/.data/serialization_id", "1234567890123456789012345678901234567890"u8.ToArray()),
        ]);
        using var expected = PyTorchFile.Read(Path.Combine(Golden, "state_dict.pth"));

        using var file = PyTorchFile.Read(path);

        AssertSame(expected, file);
    }

    [Fact]
    public void Read_TensorsSavedFromCuda_ReadToTheCpu()
    {
        // The storages' location as torch.save writes it for a GPU model ('cuda:0' instead of 'cpu').
        string path = Rewrite("state_dict.pth", "cuda.pth", edit: (name, bytes) =>
            name == "state_dict/data.pkl" ? Patch(bytes, "X\u0003\u0000\u0000\u0000cpu", "X\u0006\u0000\u0000\u0000cuda:0") : bytes);
        using var expected = PyTorchFile.Read(Path.Combine(Golden, "state_dict.pth"));

        using var file = PyTorchFile.Read(path);

        AssertSame(expected, file);
        Assert.All(file.Tensors.Values, t => Assert.Equal(DeviceType.CPU, t.device_type));
    }

    [Fact]
    public void Read_MissingFile_ThrowsFileNotFoundNamingIt()
    {
        string path = Path.Combine(_dir, "absent.pth");

        var e = Assert.Throws<FileNotFoundException>(() => PyTorchFile.Read(path));

        Assert.Equal(path, e.FileName);
        Assert.Contains($"PyTorch file '{path}' not found", e.Message);
    }

    [Fact]
    public void Read_TextFile_ThrowsNotAZipArchive()
    {
        string path = Path.Combine(_dir, "notes.pth");
        File.WriteAllText(path, "hello world");

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("expected a zip archive starting with 'PK\\x03\\x04' (504B0304), found bytes 68656C6C6F20776F", e.Message);
    }

    [Fact]
    public void Read_EmptyFile_ThrowsNamingIt()
    {
        string path = Path.Combine(_dir, "empty.pth");
        File.WriteAllBytes(path, []);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains($"PyTorch file '{path}' is not a torch.save file", e.Message);
        Assert.Contains("found an empty file", e.Message);
    }

    [Fact]
    public void Read_LegacyFormat_ThrowsSayingHowToResave()
    {
        string path = Path.Combine(Golden, "legacy.pth");

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("legacy serialization format", e.Message);
        Assert.Contains("torch.save(torch.load(path), path)", e.Message);
        Assert.Contains("_use_new_zipfile_serialization=True", e.Message);
    }

    [Fact]
    public void Read_BarePickle_ThrowsSayingToUseTorchSave()
    {
        string path = Path.Combine(_dir, "pickled.pkl");
        File.WriteAllBytes(path, [0x80, 0x02, (byte)'}', (byte)'.']);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains($"PyTorch file '{path}' is a bare Python pickle", e.Message);
        Assert.Contains("torch.save(model.state_dict(), path)", e.Message);
    }

    [Fact]
    public void Read_TorchScriptArchive_ThrowsSayingToSaveTheStateDict()
    {
        string path = Path.Combine(Golden, "torchscript.pt");

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("TorchScript archive", e.Message);
        Assert.Contains("torch.save(model.state_dict(), path)", e.Message);
    }

    [Fact]
    public void Read_ZipWithoutDataPkl_ThrowsListingWhatItHolds()
    {
        string path = Path.Combine(_dir, "other.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
            using (var w = new StreamWriter(zip.CreateEntry("photos/readme.txt").Open()))
                w.Write("not weights");

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("expected a record 'photos/data.pkl', found 1 record(s): 'photos/readme.txt'", e.Message);
    }

    [Fact]
    public void Read_DamagedZip_ThrowsInvalidData()
    {
        string path = Path.Combine(_dir, "damaged.pth");
        File.WriteAllBytes(path, [.. "PK\x03\x04"u8, .. new byte[100]]);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains($"PyTorch file '{path}' starts like a zip archive but cannot be read as one", e.Message);
    }

    [Fact]
    public void Read_StorageRecordMissing_ThrowsNamingRecordAndTensor()
    {
        string path = Rewrite("state_dict.pth", "missing.pth", edit: (name, bytes) => name == "state_dict/data/0" ? null : bytes);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("expected a storage record 'state_dict/data/0' for tensor 'fc1.weight', found none", e.Message);
    }

    [Fact]
    public void Read_StorageRecordShorterThanTheStorage_ThrowsWithBothLengths()
    {
        string path = Rewrite("state_dict.pth", "short.pth", edit: (name, bytes) => name == "state_dict/data/0" ? bytes[..40] : bytes);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("storage record 'state_dict/data/0' for tensor 'fc1.weight' is too short: expected 48 bytes (12 × float32), found 40", e.Message);
    }

    [Fact]
    public void Read_UnknownOpcode_ThrowsNamingFileAndOpcode()
    {
        string path = Rewrite("state_dict.pth", "opcode.pth", edit: (name, bytes) => name == "state_dict/data.pkl" ? [.. bytes[..^1], 0xf0] : bytes);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains($"PyTorch file '{path}', record 'state_dict/data.pkl'", e.Message);
        Assert.Contains("unknown pickle opcode 0xF0", e.Message);
    }

    [Fact]
    public void Read_TruncatedPickle_Throws()
    {
        string path = Rewrite("state_dict.pth", "truncated.pth", edit: (name, bytes) => name == "state_dict/data.pkl" ? bytes[..(bytes.Length / 2)] : bytes);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains($"PyTorch file '{path}', record 'state_dict/data.pkl'", e.Message);
        Assert.Contains("the pickle is truncated", e.Message);
    }

    [Fact]
    public void Read_CustomPythonObject_ThrowsNamingTheGlobal()
    {
        string path = Path.Combine(Golden, "custom_object.pth");

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("global '__main__.Config' is not allowed: only tensors, numbers, strings and dicts/lists of them are read", e.Message);
    }

    [Fact]
    public void Read_BigEndianByteOrder_ThrowsSayingSo()
    {
        string path = Rewrite("state_dict.pth", "big.pth", add: [("state_dict/byteorder", "big"u8.ToArray())]);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains($"PyTorch file '{path}' stores its tensors big-endian", e.Message);
        Assert.Contains("little-endian", e.Message);
    }

    [Fact]
    public void Read_UnknownByteOrder_Throws()
    {
        string path = Rewrite("state_dict.pth", "middle.pth", add: [("state_dict/byteorder", "middle"u8.ToArray())]);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains("expected record 'state_dict/byteorder' to say 'little' or 'big', found 'middle'", e.Message);
    }

    [Fact]
    public void Read_ComplexTensor_ThrowsNamingKeyAndType()
    {
        string path = Path.Combine(Golden, "complex.pth");

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("tensor 'spectrum' is stored as ComplexFloatStorage (complex64), which Dls does not read", e.Message);
        Assert.Contains("expected float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8 or bool", e.Message);
    }

    [Fact]
    public void Read_QuantizedTensor_ThrowsNamingKeyAndType()
    {
        string path = Path.Combine(Golden, "quantized.pth");

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("'q' is a quantized tensor of qint8 (torch._utils._rebuild_qtensor), which Dls does not read", e.Message);
    }

    [Fact]
    public void Read_NoTensors_ThrowsListingWhatItHolds()
    {
        string path = Path.Combine(Golden, "no_tensors.pth");

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains($"PyTorch file '{path}' holds no tensors", e.Message);
        Assert.Contains("found a dict of 2 (epoch, name)", e.Message);
    }

    [Fact]
    public void Read_TwoTensorsFlattenedToOneName_ThrowsNamingIt()
    {
        string path = Path.Combine(Golden, "collision.pth");

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains($"PyTorch file '{path}': expected one tensor per name, found 2 named 'a.b'", e.Message);
    }

    [Fact]
    public void Read_TensorBeyondItsStorage_Throws()
    {
        // The 12-element storage of fc1.weight declared as 2 elements in the pickle: the view (4 × 3) no longer fits.
        string path = Rewrite("state_dict.pth", "beyond.pth", edit: (name, bytes) => name == "state_dict/data.pkl" ? Patch(bytes, "cpuq\x07K\x0c", "cpuq\x07K\x02") : bytes);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains("tensor 'fc1.weight' (size (3, 4), stride (4, 1), offset 0) needs 12 elements of storage '0', which holds 2", e.Message);
    }

    [Fact]
    public void Read_TupleKeyNestedAMillionDeep_ThrowsInsteadOfOverflowingTheStack()
    {
        // {((((…(),),…),): tensor}: one byte per level (TUPLE1). Formatting the key recursively killed the process.
        byte[] key = [(byte)')', .. Enumerable.Repeat((byte)0x85, 1_000_000)];
        string path = Crafted("deep_key.pth", [(byte)'}', .. key, .. TensorOps(), (byte)'s']);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains($"PyTorch file '{path}': expected dict keys of at most 65536 characters and tuples nested at most 200 deep", e.Message);
    }

    [Fact]
    public void Read_TupleKeyRepeatingItselfThroughTheMemo_ThrowsBeforeItsTextGrows()
    {
        // t0 = (1, 1); t(i) = (t(i−1), t(i−1)) by memo references: 24 levels of 6 bytes name a key of 2^24 ones.
        var body = new List<byte> { (byte)'}', (byte)'K', 1, (byte)'K', 1, 0x86, (byte)'q', 20, (byte)'0' };
        for (byte i = 21; i < 45; i++)
            body.AddRange([(byte)'h', (byte)(i - 1), (byte)'h', (byte)(i - 1), 0x86, (byte)'q', i, (byte)'0']);
        body.AddRange([(byte)'h', 44, .. TensorOps(), (byte)'s']);
        string path = Crafted("memo_key.pth", [.. body]);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains("expected dict keys of at most 65536 characters", e.Message);
    }

    [Fact]
    public void Read_OneLongKeyReachedUnderManyNames_ThrowsBeforeTheNamesExhaustMemory()
    {
        // [tensor, d, d, …] with d = {"kkkk…": 1} (10,000 characters) named 10,000 times: 100 million characters of names
        // from a 30 KB pickle (an earlier probe of this shape took 24 GB and was killed).
        byte[] longKey = [(byte)'X', .. BitConverter.GetBytes(10_000), .. Enumerable.Repeat((byte)'k', 10_000)];
        List<byte> body = [(byte)']', .. TensorOps(), (byte)'a', (byte)'(', (byte)'}', .. longKey, (byte)'K', 1, (byte)'s', (byte)'q', 20];
        for (int i = 0; i < 10_000; i++)
            body.AddRange([(byte)'h', 20]);
        body.Add((byte)'e');
        string path = Crafted("long_names.pth", [.. body]);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains($"PyTorch file '{path}': its names and values come to more than 67108864 characters", e.Message);
    }

    [Fact]
    public void Read_HugeInteger_ThrowsInsteadOfPrintingItForMinutes()
    {
        // {"w": tensor, "n": LONG4 of 100,000 bytes}: its decimal text took seconds (minutes at 2 MB).
        byte[] huge = [0x8b, .. BitConverter.GetBytes(100_000), .. Enumerable.Repeat((byte)1, 100_000)];
        string path = Crafted("huge_int.pth", [(byte)'}', .. Str("w"), .. TensorOps(), (byte)'s', .. Str("n"), .. huge, (byte)'s']);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains("expected an integer of at most 1024 bytes, found one of 100000 bytes", e.Message);
    }

    [Fact]
    public void Read_ExpandedViewOfOneValue_ThrowsBeforeCopyingIt()
    {
        // {"w": the 2-value storage of tensor.pth seen with size (9000, 9000) and strides (0, 0)}: 324 MB of copies.
        byte[] tensor = TensorOps().ToArray();
        string path = Crafted("expanded.pth", [(byte)'}', .. Str("w"), .. View(tensor, [9000, 9000], [0, 0]), (byte)'s']);

        var e = Assert.Throws<NotSupportedException>(() => PyTorchFile.Read(path));

        Assert.Contains($"PyTorch file '{path}': its 1 tensors would take 324000000 bytes as the separate copies Dls makes, for 8 bytes of storages", e.Message);
    }

    [Fact]
    public void Read_ExpandedViewWithinTheAllowance_IsCopiedValueByValue()
    {
        // torch.tensor([1.5, 2.5])[1:].expand(3, 1000), as a buffer such as Hugging Face's position_ids is saved.
        byte[] view = View(TensorOps(), [3, 1000], [0, 0]);
        byte[] offset1 = [.. view];
        int at = offset1.AsSpan().IndexOf("QK\0"u8);   // BINPERSID, then the storage offset: BININT1 0 → 1
        offset1[at + 2] = 1;
        string path = Crafted("expanded_small.pth", [(byte)'}', .. Str("position_ids"), .. offset1, (byte)'s']);

        using var file = PyTorchFile.Read(path);

        Tensor ids = file.Tensors["position_ids"];
        Assert.Equal([3L, 1000L], ids.shape);
        Assert.All(ids.data<float>().ToArray(), v => Assert.Equal(2.5f, v));
    }

    [Fact]
    public void Read_ExpandedSizeBeyond64Bits_ThrowsInvalidData()
    {
        string path = Crafted("overflow.pth", [(byte)'}', .. Str("w"), .. View(TensorOps().ToArray(), [1L << 40, 1L << 40], [0, 0]), (byte)'s']);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains("tensor 'w' has size (1099511627776, 1099511627776), whose bytes do not fit in 64 bits", e.Message);
    }

    [Fact]
    public void Read_OneTensorNamedManyTimes_ThrowsBeforeCopyingItEachTime()
    {
        // A list naming one tensor of a 1 MiB storage 200 times through the memo: 200 MiB of copies for 1 MiB of data
        // (a 2-byte memo reference per copy: a million of them would ask for a terabyte).
        List<byte> body = [(byte)']', .. View(TensorOps(), [1 << 18], [1]), (byte)'q', 20, (byte)'a', (byte)'('];
        for (int i = 1; i < 200; i++)
            body.AddRange([(byte)'h', 20]);
        body.Add((byte)'e');
        string path = Crafted("named_often.pth", [.. body], storage: new byte[1 << 20], count: 1 << 18);

        var e = Assert.Throws<NotSupportedException>(() => PyTorchFile.Read(path));

        Assert.Contains("its 200 tensors would take 209715200 bytes as the separate copies Dls makes, for 1048576 bytes of storages", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_RecordLongerInItsZipHeaderThanInFact_ThrowsWithoutAllocatingTheDeclaredLength(bool compressed)
    {
        // The zip header's sizes of data.pkl say 2 GiB (both of them for a stored record); the record holds 4.6 KB.
        string path = Rewrite("state_dict.pth", $"declared{compressed}.pth", compress: name => compressed && name == "state_dict/data.pkl");
        byte[] zip = File.ReadAllBytes(path);
        SetSize(zip, "state_dict/data.pkl", 0x7FFF_FF00, compressedToo: !compressed);
        File.WriteAllBytes(path, zip);
        long before = GC.GetAllocatedBytesForCurrentThread();

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains($"PyTorch file '{path}'", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 20, "The declared 2 GiB were allocated.");
    }

    [Fact]
    public void Read_PickleDeflatedLikeAZipBomb_ThrowsBeforeUnpicklingIt()
    {
        // 4 MB of NONE, POP after the state dict, deflated to a few KB: the unpickler's memory is a multiple of the
        // pickle's bytes, which a small file could otherwise raise a thousandfold.
        byte[] filler = [.. Enumerable.Range(0, 2_000_000).SelectMany(_ => "N0"u8.ToArray())];
        string path = Crafted("bomb.pth", [(byte)'}', .. Str("w"), .. TensorOps(), (byte)'s', .. filler], compressPickle: true);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains("record 'tensor/data.pkl' expands from", e.Message);
        Assert.Contains("expected at most 64 times (torch.save does not compress its records)", e.Message);
    }

    [Fact]
    public void Read_WholeModuleSavedWithTorchSave_ThrowsNamingItsClassAndWhatToSaveInstead()
    {
        // torch.save(nn.Sequential(…)) begins with GLOBAL 'torch.nn.modules.container Sequential'.
        string path = Crafted("module.pth", [(byte)'c', .. Encoding.ASCII.GetBytes("torch.nn.modules.container\nSequential\n"), (byte)')', 0x81]);

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains("global 'torch.nn.modules.container.Sequential' is not allowed", e.Message);
        Assert.Contains("this is a whole nn.Module saved with torch.save(model): save model.state_dict() instead", e.Message);
    }

    [Fact]
    public void Read_FailureAfterSomeTensorsWereMade_LeavesNoLiveTensor()
    {
        // The last storage record compressed and then corrupted: 14 tensors are copied before reading it fails.
        string path = Rewrite("state_dict.pth", "corrupt.pth", compress: name => name == "state_dict/data/14");
        byte[] zip = File.ReadAllBytes(path);
        int header = LocalHeader(zip, "state_dict/data/14");
        int data = header + 30 + BitConverter.ToUInt16(zip, header + 26) + BitConverter.ToUInt16(zip, header + 28);
        zip[data] = 0xff;   // a deflate block of the reserved type 3
        File.WriteAllBytes(path, zip);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        var e = Assert.Throws<InvalidDataException>(() => PyTorchFile.Read(path));

        Assert.Contains("storage record 'state_dict/data/14' for tensor 'bn.num_batches_tracked' cannot be read", e.Message);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Read_InsideACallersScope_TensorsOutliveTheScope()
    {
        StateDictFile file;
        using (NewDisposeScope())
            file = PyTorchFile.Read(Path.Combine(Golden, "tensor.pth"));

        using (file)
            Assert.Equal([1.5f, 2.5f], file.Tensors[""].data<float>().ToArray());
    }

    [Fact]
    public void Read_SuccessfulReadThenDispose_LeavesNoLiveTensor()
    {
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        using (var file = PyTorchFile.Read(Path.Combine(Golden, "shared.pth")))
            Assert.Equal(9, file.Tensors.Count);

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    private static void AssertValues(string key, JsonArray expected, Tensor actual)
    {
        if (actual.numel() == 0)
        {
            Assert.Empty(expected);
            return;
        }

        switch (actual.dtype)
        {
            case ScalarType.Bool:
                Assert.Equal(expected.Select(v => v!.GetValue<bool>()), actual.data<bool>().ToArray());
                break;
            case ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte:
                using (var wide = actual.to_type(ScalarType.Int64))
                    Assert.Equal(expected.Select(v => v!.GetValue<long>()), wide.data<long>().ToArray());
                break;
            default:
                // float16/bfloat16/float32 values widen to float64 exactly, as Python's .float().tolist() did.
                using (var wide = actual.to_type(ScalarType.Float64))
                    Assert.True(expected.Select(v => v!.GetValue<double>()).SequenceEqual(wide.data<double>().ToArray()), $"Values of '{key}' differ.");
                break;
        }
    }

    private static void AssertSame(StateDictFile expected, StateDictFile actual)
    {
        Assert.Equal(expected.Describe().Select(e => e.ToString()), actual.Describe().Select(e => e.ToString()));
        foreach (var (name, tensor) in expected.Tensors)
            Assert.True(Same(tensor, actual.Tensors[name]), $"'{name}' differs.");
        Assert.Equal(expected.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal), actual.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    /// <summary>Same shape, type and values.</summary>
    private static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype)
            return false;
        using var equal = a.eq(b);
        using var all = equal.all();
        return all.item<bool>();
    }

    /// <summary>
    /// The pickle opcodes of tensor.pth without PROTO and STOP: they push its tensor (storage '0', 2 floats) and use memo
    /// entries 0–11.
    /// </summary>
    private static byte[] TensorOps()
    {
        using var zip = ZipFile.OpenRead(Path.Combine(Golden, "tensor.pth"));
        return Read(zip.GetEntry("tensor/data.pkl")!)[2..^1];
    }

    /// <summary>The tensor of <see cref="TensorOps"/> with another size and stride (both written as 1-tuples in it).</summary>
    private static byte[] View(byte[] tensor, long[] size, long[] stride)
    {
        // "K\x02\x85q\x06K\x01\x85q\x07": size (2,) and stride (1,), memoized as 6 and 7.
        byte[] from = [(byte)'K', 2, 0x85, (byte)'q', 6, (byte)'K', 1, 0x85, (byte)'q', 7];
        int at = tensor.AsSpan().IndexOf(from);
        Assert.True(at >= 0);
        return [.. tensor[..at], .. Tuple(size), .. Tuple(stride), .. tensor[(at + from.Length)..]];

        static byte[] Tuple(long[] values) =>
            [(byte)'(', .. values.SelectMany(v => (byte[])[0x8a, 8, .. BitConverter.GetBytes(v)]), (byte)'t'];
    }

    /// <summary>BINUNICODE.</summary>
    private static byte[] Str(string text) => [(byte)'X', .. BitConverter.GetBytes(Encoding.UTF8.GetByteCount(text)), .. Encoding.UTF8.GetBytes(text)];

    /// <summary>tensor.pth with another pickle (PROTO 2, <paramref name="body"/>, STOP) and optionally another storage '0'.</summary>
    private string Crafted(string name, byte[] body, byte[]? storage = null, int count = 2, bool compressPickle = false)
    {
        byte[] pickle = [0x80, 2, .. body, (byte)'.'];
        if (storage is not null)
        {
            // The storage's element count in the persistent id: BININT1 2 → BININT count.
            byte[] from = [(byte)'K', 2, (byte)'t'];
            int at = pickle.AsSpan().IndexOf(from);
            pickle = [.. pickle[..at], (byte)'J', .. BitConverter.GetBytes(count), (byte)'t', .. pickle[(at + from.Length)..]];
        }

        return Rewrite("tensor.pth", name, edit: (record, bytes) => record switch
        {
            "tensor/data.pkl" => pickle,
            "tensor/data/0" when storage is not null => storage,
            _ => bytes,
        }, compress: record => compressPickle && record == "tensor/data.pkl");
    }

    /// <summary>
    /// Rewrites a record's uncompressed size (and its compressed size) in its local header (+22, +18) and its central
    /// directory entry (+24, +20).
    /// </summary>
    private static void SetSize(byte[] zip, string record, uint size, bool compressedToo)
    {
        int local = LocalHeader(zip, record);
        BitConverter.TryWriteBytes(zip.AsSpan(local + 22), size);
        if (compressedToo)
            BitConverter.TryWriteBytes(zip.AsSpan(local + 18), size);
        byte[] name = Encoding.ASCII.GetBytes(record);
        for (int at = 0; at + 46 + name.Length <= zip.Length; at++)
        {
            if (zip.AsSpan(at, 4).SequenceEqual("PK\x01\x02"u8) && BitConverter.ToUInt16(zip, at + 28) == name.Length
                && zip.AsSpan(at + 46, name.Length).SequenceEqual(name))
            {
                BitConverter.TryWriteBytes(zip.AsSpan(at + 24), size);
                if (compressedToo)
                    BitConverter.TryWriteBytes(zip.AsSpan(at + 20), size);
            }
        }
    }

    /// <summary>Where a record's local header starts (signature PK\x03\x04, name length at +26, name at +30).</summary>
    private static int LocalHeader(byte[] zip, string record)
    {
        byte[] name = Encoding.ASCII.GetBytes(record);
        for (int at = 0; at + 30 + name.Length <= zip.Length; at++)
        {
            if (zip.AsSpan(at, 4).SequenceEqual("PK\x03\x04"u8) && BitConverter.ToUInt16(zip, at + 26) == name.Length
                && zip.AsSpan(at + 30, name.Length).SequenceEqual(name))
                return at;
        }

        throw new InvalidOperationException($"No local header for '{record}'.");
    }

    /// <summary>Replaces the one occurrence of <paramref name="from"/> (Latin-1 text) in a pickle.</summary>
    private static byte[] Patch(byte[] bytes, string from, string to)
    {
        byte[] a = Encoding.Latin1.GetBytes(from), b = Encoding.Latin1.GetBytes(to);
        int at = bytes.AsSpan().IndexOf(a);
        Assert.True(at >= 0 && bytes.AsSpan(at + 1).IndexOf(a) < 0, $"Expected one '{from}' in the pickle.");
        return [.. bytes[..at], .. b, .. bytes[(at + a.Length)..]];
    }

    /// <summary>Copies a golden archive record by record, changing (null: dropping) some, compressing some, adding some.</summary>
    private string Rewrite(string golden, string name, Func<string, byte[], byte[]?>? edit = null,
        IEnumerable<(string Name, byte[] Content)>? add = null, Func<string, bool>? compress = null)
    {
        string path = Path.Combine(_dir, name);
        using var source = ZipFile.OpenRead(Path.Combine(Golden, golden));
        using var target = ZipFile.Open(path, ZipArchiveMode.Create);
        var records = source.Entries.Select(e => (e.FullName, Content: Read(e))).ToList();
        var edited = records.Select(r => (r.FullName, Content: edit is null ? r.Content : edit(r.FullName, r.Content)));
        foreach (var (record, content) in edited.Concat((add ?? []).Select(a => (a.Name, (byte[]?)a.Content))))
        {
            if (content is null)
                continue;
            var entry = target.CreateEntry(record, compress?.Invoke(record) == true ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
            using var stream = entry.Open();
            stream.Write(content);
        }

        return path;
    }

    private static byte[] Read(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>A stream that can only be read forward, like a network download.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Position { get => base.Position; set => throw new NotSupportedException(); }

        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
    }
}
