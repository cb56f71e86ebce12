using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Dls.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Checkpoints;

public sealed class SafeTensorsTests : IDisposable
{
    private const string Source = "test.safetensors";
    private readonly string dir = Directory.CreateTempSubdirectory("dls-safetensors-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string TestData(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "safetensors", name);

    private static JsonElement Expected(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestData("expected.json")));
        return document.RootElement.GetProperty(file).Clone();
    }

    // ---- golden files written by make_golden.py (struct + json, outside .NET) ----

    [Theory]
    [InlineData("golden.safetensors")]
    [InlineData("unordered.safetensors")]
    public void Read_FileWrittenByPython_GivesExactlyTheScriptsValues(string name)
    {
        JsonElement expected = Expected(name);

        using StateDictFile file = SafeTensors.Read(TestData(name));

        Assert.Equal(TestData(name), file.Source);
        var metadata = expected.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.Equal(metadata.OrderBy(p => p.Key, StringComparer.Ordinal), file.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal));
        var tensors = expected.GetProperty("tensors");
        Assert.Equal(tensors.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), file.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (JsonProperty entry in tensors.EnumerateObject())
        {
            AssertMatches(entry.Name, file.Tensors[entry.Name], entry.Value);
        }
    }

    [Fact]
    public void Write_TensorsOfTheGoldenFile_ByteIdenticalToPythonsFile()
    {
        // make_golden.py lays golden.safetensors out as the reference serializer does (dtype alignment, then name;
        // metadata keys sorted); the tensors here are built from the values alone, not read from that file.
        JsonElement expected = Expected("golden.safetensors");
        var tensors = expected.GetProperty("tensors").EnumerateObject().Select(p => new KeyValuePair<string, Tensor>(p.Name, FromValues(p.Value))).ToList();
        var metadata = expected.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        string path = Path.Combine(dir, "written.safetensors");
        try
        {
            SafeTensors.Write(path, tensors, metadata);
        }
        finally
        {
            tensors.ForEach(p => p.Value.Dispose());
        }

        Assert.Equal(File.ReadAllBytes(TestData("golden.safetensors")), File.ReadAllBytes(path));
    }

    [Fact]
    public void Write_WhatReadGaveForAnyOrderedFile_ByteIdenticalToReferenceLayout()
    {
        string fromGolden = Path.Combine(dir, "golden-again.safetensors"), fromUnordered = Path.Combine(dir, "unordered-again.safetensors");
        using (var golden = SafeTensors.Read(TestData("golden.safetensors")))
        {
            SafeTensors.Write(fromGolden, golden.Tensors, golden.Metadata);
        }

        using (var unordered = SafeTensors.Read(TestData("unordered.safetensors")))
        {
            SafeTensors.Write(fromUnordered, unordered.Tensors, unordered.Metadata);
        }

        Assert.Equal(File.ReadAllBytes(TestData("golden.safetensors")), File.ReadAllBytes(fromGolden));
        // Rewritten in the reference layout: "__metadata__" first, I64, F32, I32, BF16, U8; names sorted; compact JSON padded to 8.
        byte[] rewritten = File.ReadAllBytes(fromUnordered);
        long n = BinaryPrimitives.ReadInt64LittleEndian(rewritten);
        string header = Encoding.UTF8.GetString(rewritten, 8, (int)n);
        Assert.Equal(0, n % 8);
        Assert.Equal(
            """{"__metadata__":{"source":"unordered"},"z.empty":{"dtype":"I64","shape":[0,2],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[2],"data_offsets":[8,16]},"d":{"dtype":"BF16","shape":[],"data_offsets":[16,18]},"c":{"dtype":"U8","shape":[3],"data_offsets":[18,21]}}""",
            header.TrimEnd(' '));
        using var again = SafeTensors.Read(fromUnordered);
        AssertMatches("d", again.Tensors["d"], Expected("unordered.safetensors").GetProperty("tensors").GetProperty("d"));
    }

    private static readonly Dictionary<string, ScalarType> Types = new()
    {
        ["F64"] = ScalarType.Float64, ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16, ["BF16"] = ScalarType.BFloat16,
        ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32, ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8,
        ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    private static void AssertMatches(string name, Tensor actual, JsonElement expected)
    {
        string dtype = expected.GetProperty("dtype").GetString()!;
        Assert.True(actual.dtype == Types[dtype], $"{name}: expected {Types[dtype]}, found {actual.dtype}");
        Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), actual.shape);
        Assert.Equal(DeviceType.CPU, actual.device_type);
        Assert.Equal(expected.GetProperty("hex").GetString(), Convert.ToHexStringLower(actual.bytes));
        var values = expected.GetProperty("values").EnumerateArray().ToArray();
        switch (dtype)
        {
            case "F64":
                Assert.Equal(values.Select(v => v.GetDouble()), Elements<double>(actual));
                break;
            case "F32":
                Assert.Equal(values.Select(v => (float)v.GetDouble()), Elements<float>(actual));
                break;
            case "F16" or "BF16":
                // The script wrote what the stored bits decode to; every such value is exact in float32.
                using (Tensor wide = actual.to(ScalarType.Float32))
                {
                    Assert.Equal(values.Select(v => (float)v.GetDouble()), Elements<float>(wide));
                }

                break;
            case "I64":
                Assert.Equal(values.Select(v => v.GetInt64()), Elements<long>(actual));
                break;
            case "I32":
                Assert.Equal(values.Select(v => v.GetInt32()), Elements<int>(actual));
                break;
            case "I16":
                Assert.Equal(values.Select(v => v.GetInt16()), Elements<short>(actual));
                break;
            case "I8":
                Assert.Equal(values.Select(v => v.GetSByte()), Elements<sbyte>(actual));
                break;
            case "U8":
                Assert.Equal(values.Select(v => v.GetByte()), Elements<byte>(actual));
                break;
            case "BOOL":
                Assert.Equal(values.Select(v => v.GetBoolean()), Elements<bool>(actual));
                break;
            default:
                Assert.Fail($"{name}: no check for {dtype}");
                break;
        }
    }

    /// <summary>The elements in C order (TorchSharp's accessor throws on a tensor without elements).</summary>
    private static T[] Elements<T>(Tensor t) where T : unmanaged => t.numel() == 0 ? [] : t.data<T>().ToArray();

    private static Tensor FromValues(JsonElement expected)
    {
        long[] shape = expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        var values = expected.GetProperty("values").EnumerateArray().ToArray();
        using var scope = NewDisposeScope();
        Tensor flat = expected.GetProperty("dtype").GetString() switch
        {
            "F64" => tensor(values.Select(v => v.GetDouble()).ToArray()),
            "F32" => tensor(values.Select(v => (float)v.GetDouble()).ToArray()),
            "F16" => tensor(values.Select(v => (float)v.GetDouble()).ToArray()).to(ScalarType.Float16),
            "BF16" => tensor(values.Select(v => (float)v.GetDouble()).ToArray()).to(ScalarType.BFloat16),
            "I64" => tensor(values.Select(v => v.GetInt64()).ToArray()),
            "I32" => tensor(values.Select(v => v.GetInt32()).ToArray()),
            "I16" => tensor(values.Select(v => v.GetInt16()).ToArray()),
            "I8" => tensor(values.Select(v => v.GetSByte()).ToArray()),
            "U8" => tensor(values.Select(v => v.GetByte()).ToArray()),
            "BOOL" => tensor(values.Select(v => v.GetBoolean()).ToArray()),
            var other => throw new InvalidOperationException(other),
        };
        return scope.MoveToOuter(flat.reshape(shape));
    }

    // ---- round trips ----

    public static TheoryData<ScalarType> AllTypes() =>
    [
        ScalarType.Float64, ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64,
        ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool,
    ];

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void WriteRead_EveryDtype_SameTypesShapesAndBytes(ScalarType type)
    {
        string path = Path.Combine(dir, $"{type}.safetensors");
        var written = new Dictionary<string, Tensor>();
        try
        {
            using (NewDisposeScope())
            {
                Tensor Values(params long[] shape) => (type switch
                {
                    ScalarType.Bool => randint(0, 2, shape).gt(0),
                    ScalarType.Byte => randint(0, 256, shape),
                    ScalarType.Int8 => randint(-128, 128, shape),
                    _ when is_integral(type) => randint(-30000, 30000, shape),
                    _ => randn(shape) * 100,
                }).to(type);
                written["matrix"] = Values(3, 5);
                written["transposed"] = Values(4, 2).t();   // not contiguous: written in C order
                written["scalar"] = Values();
                written["empty"] = Values(0, 7);
                written["cube"] = Values(2, 3, 4);
                foreach (Tensor t in written.Values)
                {
                    t.MoveToOuterDisposeScope();
                }
            }

            Assert.False(written["transposed"].is_contiguous());
            SafeTensors.Write(path, written, new Dictionary<string, string> { ["dtype"] = type.ToString() });

            using var file = SafeTensors.Read(path);
            Assert.Equal(type.ToString(), file.Metadata["dtype"]);
            Assert.Equal(written.Keys.Order(), file.Tensors.Keys.Order());
            foreach (var (name, original) in written)
            {
                Tensor read = file.Tensors[name];
                Assert.Equal(type, read.dtype);
                Assert.Equal(original.shape, read.shape);
                using Tensor contiguous = original.contiguous();
                Assert.Equal(contiguous.bytes.ToArray(), read.bytes.ToArray());
            }
        }
        finally
        {
            foreach (Tensor t in written.Values)
            {
                t.Dispose();
            }
        }
    }

    [Fact]
    public void SaveRead_ModuleWithParametersAndBuffers_GivesStateDictNamesAndValues()
    {
        string path = Path.Combine(dir, "model.safetensors");
        using var model = nn.Sequential(("fc", nn.Linear(4, 3)), ("bn", nn.BatchNorm1d(3)));
        using (NewDisposeScope())
        {
            model.train();
            model.call(randn(8, 4));   // updates bn.running_mean/var and bn.num_batches_tracked (an I64 buffer)
        }

        SafeTensors.Save(model, path, new Dictionary<string, string> { ["framework"] = "pt" });

        using var file = SafeTensors.Read(path);
        var state = model.state_dict();
        Assert.Equal(
            new[] { "bn.bias", "bn.num_batches_tracked", "bn.running_mean", "bn.running_var", "bn.weight", "fc.bias", "fc.weight" },
            file.Tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(state.Keys.Order(StringComparer.Ordinal), file.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, original) in state)
        {
            Assert.Equal(original.dtype, file.Tensors[name].dtype);
            Assert.Equal(original.shape, file.Tensors[name].shape);
            Assert.Equal(original.bytes.ToArray(), file.Tensors[name].bytes.ToArray());
        }

        Assert.Equal(1L, file.Tensors["bn.num_batches_tracked"].item<long>());
        Assert.Equal("pt", file.Metadata["framework"]);
        Assert.False(model.state_dict()["fc.weight"].IsInvalid);   // the module's own tensors are left alone
    }

    [Fact]
    public void Write_NoMetadata_HeaderHasNoMetadataKeyAndReadGivesEmpty()
    {
        string path = Path.Combine(dir, "plain.safetensors");
        using var w = ones(2);

        SafeTensors.Write(path, [new("w", w)]);

        byte[] bytes = File.ReadAllBytes(path);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)BinaryPrimitives.ReadInt64LittleEndian(bytes));
        Assert.Equal("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  """, header);   // 54 bytes of JSON, 2 spaces to 56
        using var file = SafeTensors.Read(path);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Write_NamesNeedingEscapes_EscapedAsTheReferenceAndReadBack()
    {
        string path = Path.Combine(dir, "names.safetensors");
        using var w = ones(1);
        string name = "a\"b\\c\nd\u0001é😀";

        SafeTensors.Write(path, [new(name, w)], new Dictionary<string, string> { ["tab"] = "x\ty" });

        byte[] bytes = File.ReadAllBytes(path);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)BinaryPrimitives.ReadInt64LittleEndian(bytes));
        Assert.StartsWith("""{"__metadata__":{"tab":"x\ty"},"a\"b\\c\nd\u0001é😀":{""", header);
        using var file = SafeTensors.Read(path);
        Assert.Equal(new[] { name }, file.Tensors.Keys);
        Assert.Equal("x\ty", file.Metadata["tab"]);
    }

    // ---- ownership and leaks ----

    [Fact]
    public void Read_InsideCallersDisposeScope_TensorsOutliveTheScope()
    {
        StateDictFile file;
        using (NewDisposeScope())
        {
            file = SafeTensors.Read(TestData("golden.safetensors"));
        }

        using (file)
        {
            Assert.All(file.Tensors.Values, t => Assert.False(t.IsInvalid));
            AssertMatches("i64", file.Tensors["i64"], Expected("golden.safetensors").GetProperty("tensors").GetProperty("i64"));
        }
    }

    [Fact]
    public void Read_ThenDispose_LeavesNoLiveTensor()
    {
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        SafeTensors.Read(TestData("golden.safetensors")).Dispose();

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    public static TheoryData<string, bool, string> LateFailures() => new()
    {
        // Each fails only after tensors have been made: the header is valid, the data is not.
        { "bad bool", true, "tensor 'z.flags': expected BOOL bytes 0 or 1, found 2 at element 1" },
        { "truncated", false, "tensor 'z.flags' at data_offsets [24, 27]: expected it to end within the data buffer, found a buffer of only 25 bytes" },
        { "trailing", false, "expected the tensors to cover the whole data buffer of 30 bytes, found 3 bytes after the last tensor ends at 27" },
    };

    [Theory]
    [MemberData(nameof(LateFailures))]
    public void Read_FailsAfterTensorsWereMade_DisposesThemAll(string failure, bool seekable, string message)
    {
        string header = "{" + string.Join(",", Entry("a", "F32", "[2]", 0, 8), Entry("b", "I64", "[2]", 8, 24), Entry("z.flags", "BOOL", "[3]", 24, 27)) + "}";
        byte[] file = failure switch
        {
            "bad bool" => Build(header, [.. new byte[24], 1, 2, 0]),
            "truncated" => Build(header, [.. new byte[24], 1]),
            _ => Build(header, [.. new byte[24], 1, 0, 1, 9, 9, 9]),
        };
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        var error = Assert.Throws<InvalidDataException>(() => Read(file, seekable));

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Contains($"'{Source}'", error.Message);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Read_StreamThatCannotSeek_SameTensorsAsFromFile()
    {
        using var stream = new ForwardOnlyStream(File.ReadAllBytes(TestData("golden.safetensors")));
        using var file = SafeTensors.Read(stream, "pipe:golden");

        Assert.Equal("pipe:golden", file.Source);
        foreach (JsonProperty entry in Expected("golden.safetensors").GetProperty("tensors").EnumerateObject())
        {
            AssertMatches(entry.Name, file.Tensors[entry.Name], entry.Value);
        }
    }

    [Fact]
    public void ForEachChunk_TensorLargerThanAChunk_PiecesAliasTheTensorInOrder()
    {
        // Tensors above 1 GiB go through views of at most 1 GiB (Tensor.bytes spans stop at 2 GiB); the same path, small.
        using var t = zeros(10, ScalarType.Float32);
        var lengths = new List<int>();
        float next = 1;

        SafeTensors.ForEachChunk(t, 40, 4, chunk =>
        {
            lengths.Add(chunk.Length);
            foreach (ref float value in System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(chunk))
            {
                value = next++;
            }
        }, chunkBytes: 12);

        Assert.Equal(new[] { 12, 12, 12, 4 }, lengths);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (float)i), Elements<float>(t));
    }

    // ---- writing is atomic ----

    [Fact]
    public void Write_TensorFailsMidWrite_KeepsEarlierFileAndLeavesNoPartialFile()
    {
        string path = Path.Combine(dir, "kept.safetensors");
        using var a = ones(3);
        SafeTensors.Write(path, [new("a", a)]);
        byte[] earlier = File.ReadAllBytes(path);
        // A tensor on the "meta" device has a dtype and a shape but no data: the header and "a" are written, then copying it fails.
        using var meta = empty([4], ScalarType.Float32, device("meta"));

        var error = Assert.Throws<System.Runtime.InteropServices.ExternalException>(() => SafeTensors.Write(path, [new("a", a), new("m", meta)]));

        Assert.StartsWith("Cannot copy out of meta tensor", error.Message);
        Assert.Equal(earlier, File.ReadAllBytes(path));
        Assert.Equal(new[] { "kept.safetensors" }, Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Write_FolderRefusesNewFiles_ThrowsNamingTheTargetAndWritesNothing()
    {
        // /proc refuses new files, also for root (for whom permissions would not).
        Assert.True(OperatingSystem.IsLinux(), "This test needs /proc (Linux).");
        string target = "/proc/dls-safetensors-test.safetensors";
        using var a = ones(3);

        var error = Assert.ThrowsAny<IOException>(() => SafeTensors.Write(target, [new("a", a)]));

        Assert.StartsWith($"Cannot write '{target}'", error.Message);
        Assert.False(File.Exists(target));
    }

    public static TheoryData<string, string> BadWrites() => new()
    {
        { "duplicate", "Expected unique tensor names; found 'w' twice." },
        { "reserved", "Expected tensor names other than '__metadata__'" },
        { "complex", "'c' is ComplexFloat32" },
        { "disposed", "'d' has a disposed one" },
        { "null value", "found a null value for 'epoch'" },
        { "lone surrogate", "Expected the tensor name '" },
    };

    [Theory]
    [MemberData(nameof(BadWrites))]
    public void Write_BadArgument_ArgumentExceptionAndNoFile(string problem, string message)
    {
        string path = Path.Combine(dir, "bad.safetensors");
        using var w = ones(2);
        using var c = zeros(2, ScalarType.ComplexFloat32);
        var disposed = ones(2);
        disposed.Dispose();
        var tensors = new List<KeyValuePair<string, Tensor>> { new("w", w) };
        Dictionary<string, string>? metadata = null;
        switch (problem)
        {
            case "duplicate": tensors.Add(new("w", w)); break;
            case "reserved": tensors.Add(new("__metadata__", w)); break;
            case "complex": tensors.Add(new("c", c)); break;
            case "disposed": tensors.Add(new("d", disposed)); break;
            case "null value": metadata = new() { ["epoch"] = null! }; break;
            case "lone surrogate": tensors.Add(new("bad\ud800", w)); break;
        }

        var error = Assert.ThrowsAny<ArgumentException>(() => SafeTensors.Write(path, tensors, metadata));

        Assert.Contains(message, error.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    // ---- malformed files ----

    [Fact]
    public void Read_MissingFile_FileNotFoundNamingIt()
    {
        string path = Path.Combine(dir, "absent.safetensors");

        var error = Assert.Throws<FileNotFoundException>(() => SafeTensors.Read(path));

        Assert.Equal($"Safetensors file '{path}' not found.", error.Message);
        Assert.Equal(path, error.FileName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(7)]
    public void Read_ShorterThanEightBytes_InvalidDataWithLength(int length)
    {
        var error = Assert.Throws<InvalidDataException>(() => Read(new byte[length]));

        Assert.Equal($"Safetensors file '{Source}': expected at least 8 bytes (the header size), found {length}.", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Read_HeaderSizeBeyondTheFile_InvalidDataWithBothSizes(bool seekable)
    {
        byte[] file = new byte[8 + 20];
        BinaryPrimitives.WriteUInt64LittleEndian(file, 1000);

        var error = Assert.Throws<InvalidDataException>(() => Read(file, seekable));

        Assert.Equal($"Safetensors file '{Source}': expected a header of 1000 bytes after the 8-byte header size, found only 20 bytes in the file.", error.Message);
    }

    [Theory]
    [InlineData(100_000_001UL, "100000001")]
    [InlineData(ulong.MaxValue, "18446744073709551615")]
    public void Read_HeaderSizeAboveTheLimit_InvalidDataWithLimitAndSize(ulong size, string found)
    {
        byte[] file = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(file, size);

        var error = Assert.Throws<InvalidDataException>(() => Read(file));

        Assert.Equal($"Safetensors file '{Source}': expected a header size of at most 100,000,000 bytes, found {found}.", error.Message);
    }

    [Fact]
    public void Read_HeaderPaddedWithSpaces_Valid()
    {
        using var file = Read(Build(Entries(Entry("w", "U8", "[2]", 0, 2)) + new string(' ', 11), [7, 9]));

        Assert.Equal(new byte[] { 7, 9 }, file.Tensors["w"].data<byte>().ToArray());
    }

    [Fact]
    public void Read_HeaderNotUtf8_InvalidDataWithPosition()
    {
        byte[] header = [.. "{\"a"u8, 0xFF, .. "\":{}}"u8];

        var error = Assert.Throws<InvalidDataException>(() => Read(Build(header, [])));

        Assert.Contains($"'{Source}': expected the header to be UTF-8 text, found an invalid byte sequence at header byte 3 (0xFF)", error.Message);
    }

    [Fact]
    public void Read_UnsupportedDtype_NotSupportedNamingTensorAndDtype()
    {
        foreach (string dtype in new[] { "U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "C64" })
        {
            var error = Assert.Throws<NotSupportedException>(() => Read(Build(Entries(Entry("w", dtype, "[1]", 0, 1)), [0])));

            Assert.Contains($"'{Source}': tensor 'w' has dtype {dtype}, which Dls cannot read", error.Message);
            Assert.Contains("supported: I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL", error.Message);
        }
    }

    public static TheoryData<string, int, string> MalformedHeaders() => new()
    {
        // header JSON, buffer bytes, what the message must say
        { """{"a": {""", 0, "expected the header to be valid JSON, found: " },
        { """{"a":1} x""", 0, "expected the header to be valid JSON, found: " },
        { """[1, 2]""", 0, "expected the header to be a JSON object beginning with '{', found byte 0x5B ('[')" },
        { """ {}""", 0, "expected the header to be a JSON object beginning with '{', found byte 0x20 (' ')" },
        { """{"w": 5}""", 0, "tensor 'w': expected an object with dtype, shape and data_offsets, found a number 5" },
        { """{"w": {"shape": [1], "data_offsets": [0, 4]}}""", 4, "tensor 'w': expected a 'dtype' field, found none" },
        { """{"w": {"dtype": "F32", "data_offsets": [0, 4]}}""", 4, "tensor 'w': expected a 'shape' field, found none" },
        { """{"w": {"dtype": "F32", "shape": [1]}}""", 4, "tensor 'w': expected a 'data_offsets' field, found none" },
        { """{"w": {"dtype": 32, "shape": [1], "data_offsets": [0, 4]}}""", 4, "tensor 'w': expected 'dtype' to be a string such as \"F32\", found a number 32" },
        { """{"w": {"dtype": "F17", "shape": [1], "data_offsets": [0, 4]}}""", 4, "tensor 'w': expected a safetensors dtype (I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL, …), found \"F17\"" },
        { """{"w": {"dtype": "F32", "shape": "2x2", "data_offsets": [0, 16]}}""", 16, "tensor 'w': expected 'shape' to be an array of sizes, found a string \"2x2\"" },
        { """{"w": {"dtype": "F32", "shape": [2, "2"], "data_offsets": [0, 16]}}""", 16, "tensor 'w': expected shape[1] to be a non-negative integer, found a string \"2\"" },
        { """{"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}""", 8, "tensor 'w': expected shape[0] to be a non-negative integer, found -2" },
        { """{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}""", 4, "tensor 'w': expected shape[0] to be a non-negative integer, found the non-integer 1.5" },
        { """{"w": {"dtype": "F32", "shape": [2e0], "data_offsets": [0, 8]}}""", 8, "tensor 'w': expected shape[0] to be a non-negative integer, found the non-integer 2e0" },
        { """{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}""", 4, "tensor 'w': expected 'data_offsets' to be [begin, end], found an array [0]" },
        { """{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}""", 4, "tensor 'w': expected 'data_offsets' to be [begin, end], found an array [0, 4, 8]" },
        { """{"w": {"dtype": "F32", "shape": [1], "data_offsets": "0-4"}}""", 4, "tensor 'w': expected 'data_offsets' to be [begin, end], found a string \"0-4\"" },
        { """{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4.0]}}""", 4, "tensor 'w': expected data_offsets[1] to be a non-negative integer, found the non-integer 4.0" },
        { """{"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}""", 4, "tensor 'w': expected data_offsets[0] to be a non-negative integer, found -4" },
        { """{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 99999999999999999999]}}""", 4, "tensor 'w': expected data_offsets[1] to be an integer of at most 9223372036854775807, found 99999999999999999999" },
        { """{"w": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}}""", 0, "tensor 'w': expected data_offsets [begin, end] with begin <= end, found [4, 0]" },
        { """{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}}""", 12, "tensor 'w': expected 16 bytes for F32 [2, 2] (4 elements × 4 bytes), found data_offsets [0, 12] holding 12" },
        { """{"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4], "data_offsets": [0, 4]}}""", 4, "tensor 'w': expected a shape whose byte count fits in 64 bits, found F32 [4294967296, 4294967296, 4]" },
        { """{"w": {"dtype": "U8", "shape": [16], "data_offsets": [0, 16]}}""", 8, "tensor 'w' at data_offsets [0, 16]: expected it to end within the data buffer, found a buffer of only 8 bytes" },
        { """{"a": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}, "b": {"dtype": "U8", "shape": [8], "data_offsets": [4, 12]}}""", 12, "expected tensors not to overlap, found 'b' at data_offsets [4, 12] starting inside 'a' at [0, 8]" },
        { """{"b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "a": {"dtype": "U8", "shape": [0], "data_offsets": [2, 2]}}""", 4, "expected tensors not to overlap, found 'a' at data_offsets [2, 2] starting inside 'b' at [0, 4]" },
        { """{"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "b": {"dtype": "U8", "shape": [4], "data_offsets": [8, 12]}}""", 12, "expected the tensors to cover the data buffer without gaps, found 4 bytes ([4, 8)) that no tensor covers before 'b' at data_offsets [8, 12]" },
        { """{"a": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]}}""", 8, "found 4 bytes ([0, 4)) that no tensor covers before 'a' at data_offsets [4, 8]" },
        { """{"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}}""", 6, "expected the tensors to cover the whole data buffer of 6 bytes, found 2 bytes after the last tensor ends at 4" },
        { """{}""", 3, "expected the tensors to cover the whole data buffer of 3 bytes, found 3 bytes after the last tensor ends at 0" },
        { """{"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "w": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}""", 2, "expected each name once in the header, found 'w' twice" },
        { """{"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "\u0077": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}""", 2, "expected each name once in the header, found 'w' twice" },
        { """{"w": {"dtype": "U8", "dtype": "I8", "shape": [1], "data_offsets": [0, 1]}}""", 1, "tensor 'w': expected each field once, found 'dtype' twice" },
        { """{"__metadata__": {"a": "1"}, "__metadata__": {"b": "2"}}""", 0, "expected each name once in the header, found '__metadata__' twice" },
        { """{"__metadata__": {"a": "1", "a": "2"}}""", 0, "expected each '__metadata__' key once, found 'a' twice" },
        { """{"__metadata__": ["a"]}""", 0, "expected '__metadata__' to be an object of strings, found an array [\"a\"]" },
        { """{"__metadata__": {"epoch": 3}}""", 0, "expected '__metadata__' to map strings to strings, found a number 3 for key 'epoch'" },
        { """{"__metadata__": {"note": null}}""", 0, "expected '__metadata__' to map strings to strings, found null for key 'note'" },
    };

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void Read_MalformedHeader_InvalidDataNamingFileExpectedAndFound(string header, int bufferBytes, string message)
    {
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        var error = Assert.Throws<InvalidDataException>(() => Read(Build(header, new byte[bufferBytes])));

        Assert.StartsWith($"Safetensors file '{Source}': ", error.Message);
        Assert.Contains(message, error.Message);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Read_ZeroElementTensorsAndScalars_Valid()
    {
        string header = Entries(
            Entry("empty", "F32", "[0, 3]", 0, 0), Entry("also.empty", "I64", "[5, 0]", 0, 0),
            Entry("scalar", "I32", "[]", 0, 4), Entry("tail.empty", "BOOL", "[0]", 4, 4));

        using var file = Read(Build(header, [42, 0, 0, 0]));

        Assert.Equal(new long[] { 0, 3 }, file.Tensors["empty"].shape);
        Assert.Equal(new long[] { 5, 0 }, file.Tensors["also.empty"].shape);
        Assert.Equal(new long[] { 0 }, file.Tensors["tail.empty"].shape);
        Assert.Empty(file.Tensors["scalar"].shape);
        Assert.Equal(42, file.Tensors["scalar"].item<int>());
    }

    [Fact]
    public void Read_ExtraFieldsInAnEntry_IgnoredAsTheReferenceDoes()
    {
        using var file = Read(Build("""{"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1], "comment": {"any": [1]}}}""", [5]));

        Assert.Equal(5, file.Tensors["w"].item<byte>());
    }

    [Fact]
    public void Read_ForwardOnlyStreamWhoseHeaderAsksForTerabytes_IsRefusedAsMalformed()
    {
        // 2^40 float32 values (4 TiB) declared in a 100-byte stream that cannot seek: the sizes cannot be checked against
        // the data before the tensor is allocated, and libtorch's allocation failure must not escape as an ExternalException.
        long elements = 1L << 40;
        string header = Entries(Entry("w", "F32", $"[{elements}]", 0, elements * 4));

        var e = Assert.Throws<InvalidDataException>(() => Read(Build(header, [1, 2, 3, 4]), seekable: false));

        Assert.Contains($"Safetensors file '{Source}': tensor 'w' (F32 [{elements}], {elements * 4} bytes) could not be allocated (a damaged header, or too little memory)", e.Message);
    }

    // ---- helpers ----

    private static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\": {{\"dtype\": \"{dtype}\", \"shape\": {shape}, \"data_offsets\": [{begin}, {end}]}}";

    private static string Entries(params string[] entries) => "{" + string.Join(", ", entries) + "}";

    private static byte[] Build(string header, byte[] buffer) => Build(Encoding.UTF8.GetBytes(header), buffer);

    /// <summary>A safetensors file: 8-byte little-endian header size, the header as given, the buffer.</summary>
    private static byte[] Build(byte[] header, byte[] buffer)
    {
        byte[] file = new byte[8 + header.Length + buffer.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        buffer.CopyTo(file, 8 + header.Length);
        return file;
    }

    private static StateDictFile Read(byte[] file, bool seekable = true)
    {
        using Stream stream = seekable ? new MemoryStream(file, writable: false) : new ForwardOnlyStream(file);
        return SafeTensors.Read(stream, Source);
    }

    /// <summary>A stream that cannot seek and reports no length, like a pipe or a network response.</summary>
    private sealed class ForwardOnlyStream(byte[] content) : Stream
    {
        private readonly MemoryStream inner = new(content, writable: false);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        // Short reads on purpose: a reader must not assume one Read fills its buffer.
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 5));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
