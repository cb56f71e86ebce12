using Dls.Models.Checkpoints;
using Dls.Models.Mnist;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Checkpoints;

public sealed class StateDictImportTests
{
    // 3 → 4 (hidden) → 2: layers.0.weight [4×3], layers.0.bias [4], layers.1.weight [2×4], layers.1.bias [2].
    private static readonly MnistMlpOptions Tiny = new() { InputSize = 3, HiddenSize = 4, HiddenLayers = 1, Classes = 2, Dropout = 0 };

    [Fact]
    public void LoadInto_SameNames_CopiesEveryEntryAndTheModelComputesWithThem()
    {
        using var model = new MnistMlp(Tiny);
        using var file = File(("layers.0.weight", Ramp(4, 3)), ("layers.0.bias", Ramp(4)), ("layers.1.weight", Ramp(2, 4)), ("layers.1.bias", Ramp(2)));

        StateDictImportResult result = StateDictImport.LoadInto(model, file);

        Assert.Equal(["layers.0.bias", "layers.0.weight", "layers.1.bias", "layers.1.weight"], result.Loaded.Select(p => p.Key));
        Assert.All(result.Loaded, p => Assert.Equal(p.Key, p.Value));
        Assert.Empty(result.Unused);
        Assert.Empty(result.Missing);
        Assert.Equal(Values(file.Tensors["layers.0.weight"]), Values(model.state_dict()["layers.0.weight"]));

        // The network is ReLU(x·W0ᵀ + b0)·W1ᵀ + b1; computed here by hand from the same ramps, in double precision.
        float[] x = [0.5f, -1f, 2f];
        double[] expected = Mlp(x, RampValues(4, 3), RampValues(4), RampValues(2, 4), RampValues(2));
        model.eval();
        using var input = tensor(x).reshape(1, 3);
        using var logits = model.forward(input);
        float[] actual = logits.data<float>().ToArray();
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(expected[i], actual[i], 1e-5);   // float32 sums of three and four products
        }
    }

    [Fact]
    public void LoadInto_PrefixAndRename_MapPyTorchSequentialNamesAndLeaveTheRestOut()
    {
        // torch.save({"epoch": 3, "model_state_dict": nn.Sequential(Linear, ReLU, Linear).state_dict(), "optimizer_state_dict": …}).
        using var model = new MnistMlp(Tiny);
        using var file = File(
            ("model_state_dict.0.weight", Ramp(4, 3)), ("model_state_dict.0.bias", Ramp(4)),
            ("model_state_dict.2.weight", Ramp(2, 4)), ("model_state_dict.2.bias", Ramp(2)),
            ("optimizer_state_dict.state.0.exp_avg", Ramp(4, 3)));
        var options = new StateDictImportOptions
        {
            Prefix = "model_state_dict.",
            Rename = name => name.Split('.') is [var index, var kind] ? $"layers.{int.Parse(index) / 2}.{kind}" : null,
        };

        StateDictImportResult result = StateDictImport.LoadInto(model, file, options);

        KeyValuePair<string, string>[] expected =
        [
            new("layers.0.bias", "model_state_dict.0.bias"), new("layers.0.weight", "model_state_dict.0.weight"),
            new("layers.1.bias", "model_state_dict.2.bias"), new("layers.1.weight", "model_state_dict.2.weight"),
        ];
        Assert.Equal(expected, result.Loaded);
        Assert.Equal(["optimizer_state_dict.state.0.exp_avg"], result.Unused);
        Assert.Equal(Values(file.Tensors["model_state_dict.2.weight"]), Values(model.state_dict()["layers.1.weight"]));
    }

    [Fact]
    public void LoadInto_StrictWithAnEntryMissing_RefusesListingItAndLeavesTheModelAsItWas()
    {
        using var model = new MnistMlp(Tiny);
        float[] before = Values(model.state_dict()["layers.0.weight"]);
        using var file = File(("layers.0.weight", Ramp(4, 3)), ("layers.0.bias", Ramp(4)), ("layers.1.weight", Ramp(2, 4)));

        var e = Assert.Throws<InvalidDataException>(() => StateDictImport.LoadInto(model, file));

        Assert.Contains("Weights file test.pth does not match the module", e.Message);
        Assert.Contains("the MnistMlp entries the file does not fill: ['layers.1.bias']", e.Message);
        Assert.Contains("Strict = false", e.Message);
        Assert.Equal(before, Values(model.state_dict()["layers.0.weight"]));
    }

    [Fact]
    public void LoadInto_StrictWithAnUnmatchedTensor_RefusesNamingWhatItWasMappedTo()
    {
        using var model = new MnistMlp(Tiny);
        using var file = File(("layers.0.weight", Ramp(4, 3)), ("layers.0.bias", Ramp(4)), ("layers.1.weight", Ramp(2, 4)), ("layers.1.bias", Ramp(2)), ("head.bias", Ramp(2)));

        var e = Assert.Throws<InvalidDataException>(() => StateDictImport.LoadInto(model, file, new StateDictImportOptions { Rename = n => n.Replace("head", "out") }));

        Assert.Contains("tensors of the file that name no module entry: ['head.bias (as out.bias)']", e.Message);
        Assert.DoesNotContain("does not fill", e.Message);
    }

    [Fact]
    public void LoadInto_NotStrict_LoadsWhatMatchesAndReportsTheRest()
    {
        using var model = new MnistMlp(Tiny);
        float[] keptBefore = Values(model.state_dict()["layers.1.bias"]);
        using var file = File(("layers.0.weight", Ramp(4, 3)), ("layers.0.bias", Ramp(4)), ("layers.1.weight", Ramp(2, 4)), ("extra", Ramp(3)));

        StateDictImportResult result = StateDictImport.LoadInto(model, file, new StateDictImportOptions { Strict = false });

        Assert.Equal(["layers.0.bias", "layers.0.weight", "layers.1.weight"], result.Loaded.Select(p => p.Key));
        Assert.Equal(["extra"], result.Unused);
        Assert.Equal(["layers.1.bias"], result.Missing);
        Assert.Equal(keptBefore, Values(model.state_dict()["layers.1.bias"]));
    }

    [Fact]
    public void LoadInto_KeepCurrent_AllowsThoseEntriesMissingUnderStrict()
    {
        using var model = new MnistMlp(Tiny);
        using var file = File(("layers.0.weight", Ramp(4, 3)), ("layers.0.bias", Ramp(4)), ("layers.1.weight", Ramp(2, 4)));

        StateDictImportResult result = StateDictImport.LoadInto(model, file, new StateDictImportOptions { KeepCurrent = ["layers.1.bias"] });

        Assert.Equal(["layers.1.bias"], result.Missing);
        Assert.Equal(3, result.Loaded.Count);
    }

    [Fact]
    public void LoadInto_KeepCurrentNamesNoEntry_IsRefusedListingTheModulesEntries()
    {
        using var model = new MnistMlp(Tiny);
        using var file = File(("layers.0.weight", Ramp(4, 3)));

        var e = Assert.Throws<ArgumentException>(() => StateDictImport.LoadInto(model, file, new StateDictImportOptions { KeepCurrent = ["input_mean"] }));

        Assert.Equal("options", e.ParamName);
        Assert.Contains("KeepCurrent names 'input_mean', which the MnistMlp does not have", e.Message);
        Assert.Contains("'layers.0.weight'", e.Message);
    }

    [Fact]
    public void LoadInto_TwoTensorsOntoOneEntry_IsRefusedNamingBoth()
    {
        using var model = new MnistMlp(Tiny);
        using var file = File(("a.weight", Ramp(4, 3)), ("b.weight", Ramp(4, 3)));

        var e = Assert.Throws<ArgumentException>(() => StateDictImport.LoadInto(model, file, new StateDictImportOptions { Rename = _ => "layers.0.weight", Strict = false }));

        Assert.Contains("'layers.0.weight' would come from both 'a.weight' and 'b.weight'", e.Message);
    }

    [Fact]
    public void LoadInto_TransposedWeight_IsRefusedWithBothShapesBeforeAnythingIsCopied()
    {
        using var model = new MnistMlp(Tiny);
        float[] before = Values(model.state_dict()["layers.0.bias"]);
        // layers.0.bias sorts before layers.0.weight and is valid: it must not be copied when a later entry is refused.
        using var file = File(("layers.0.weight", Ramp(3, 4)), ("layers.0.bias", Ramp(4)), ("layers.1.weight", Ramp(2, 4)), ("layers.1.bias", Ramp(2)));

        var e = Assert.Throws<InvalidDataException>(() => StateDictImport.LoadInto(model, file));

        Assert.Contains("Weights file test.pth: 'layers.0.weight' expected shape [4×3], found [3×4]", e.Message);
        Assert.Contains("transpose", e.Message);
        Assert.Equal(before, Values(model.state_dict()["layers.0.bias"]));
    }

    [Fact]
    public void LoadInto_OtherShape_IsRefusedWithoutTheTransposeHint()
    {
        using var model = new MnistMlp(Tiny);
        using var file = File(("layers.0.weight", Ramp(4, 3)), ("layers.0.bias", Ramp(5)), ("layers.1.weight", Ramp(2, 4)), ("layers.1.bias", Ramp(2)));

        var e = Assert.Throws<InvalidDataException>(() => StateDictImport.LoadInto(model, file));

        Assert.Contains("'layers.0.bias' expected shape [4], found [5]", e.Message);
        Assert.DoesNotContain("transpose", e.Message);
    }

    [Theory]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void LoadInto_OtherFloatingType_IsConvertedToTheModulesType(ScalarType stored)
    {
        using var model = new MnistMlp(Tiny);
        // Quarter steps are exact in every one of these types, so the converted values are exact too.
        using var file = File(
            ("layers.0.weight", Quarters(4, 3).to(stored)), ("layers.0.bias", Quarters(4).to(stored)),
            ("layers.1.weight", Quarters(2, 4).to(stored)), ("layers.1.bias", Quarters(2).to(stored)));

        StateDictImport.LoadInto(model, file);

        Tensor loaded = model.state_dict()["layers.0.weight"];
        Assert.Equal(ScalarType.Float32, loaded.dtype);
        using var expected = Quarters(4, 3);
        Assert.Equal(Values(expected), Values(loaded));
    }

    [Fact]
    public void LoadInto_FiniteValueThatOverflowsTheModulesType_IsRefusedBeforeAnythingIsCopied()
    {
        // 1e300 is finite in float64 and ∞ in float32: it used to land in the model as ∞.
        using var model = new MnistMlp(Tiny);
        float[] before = Values(model.state_dict()["layers.0.weight"]);
        Tensor big = Ramp(2, 4).to(ScalarType.Float64);
        big[1, 0] = tensor(1e300);
        using var file = File(("layers.0.weight", Ramp(4, 3)), ("layers.0.bias", Ramp(4)), ("layers.1.weight", big), ("layers.1.bias", Ramp(2)));

        var e = Assert.Throws<InvalidDataException>(() => StateDictImport.LoadInto(model, file));

        Assert.Contains("Weights file test.pth: 'layers.1.weight' expected values that Float32 can hold, found 1E+300 (Float64) at flat index 4, which becomes ∞.", e.Message);
        Assert.Equal(before, Values(model.state_dict()["layers.0.weight"]));
    }

    [Fact]
    public void LoadInto_IntegerIntoFloatingEntry_IsRefusedNamingBothTypes()
    {
        using var model = new MnistMlp(Tiny);
        using var file = File(("layers.0.weight", ones(4, 3, ScalarType.Int64)), ("layers.0.bias", Ramp(4)), ("layers.1.weight", Ramp(2, 4)), ("layers.1.bias", Ramp(2)));

        var e = Assert.Throws<InvalidDataException>(() => StateDictImport.LoadInto(model, file));

        Assert.Contains("'layers.0.weight' expected Float32 or another floating-point type, found Int64", e.Message);
    }

    [Fact]
    public void LoadInto_IntegerBuffer_LoadsTheSameTypeAndRefusesAnother()
    {
        // BatchNorm1d: weight, bias, running_mean, running_var (float32) and num_batches_tracked (int64), as in PyTorch.
        using var norm = nn.BatchNorm1d(3);
        var floats = new (string, Tensor)[] { ("weight", Ramp(3)), ("bias", Ramp(3)), ("running_mean", Ramp(3)), ("running_var", Ramp(3)) };
        using (var good = File([.. floats, ("num_batches_tracked", tensor(7L))]))
        {
            StateDictImport.LoadInto(norm, good);
        }

        Assert.Equal(7L, norm.state_dict()["num_batches_tracked"].item<long>());
        using var bad = File([.. floats.Select(p => (p.Item1, Ramp(3))), ("num_batches_tracked", tensor(7f))]);
        var e = Assert.Throws<InvalidDataException>(() => StateDictImport.LoadInto(norm, bad));
        Assert.Contains("'num_batches_tracked' expected Int64, found Float32", e.Message);
    }

    [Fact]
    public void LoadInto_NonFiniteValue_IsRefusedNamingTheEntryAndIndex()
    {
        using var model = new MnistMlp(Tiny);
        float[] before = Values(model.state_dict()["layers.1.weight"]);
        Tensor bad = Ramp(2, 4);
        bad[1, 2] = tensor(float.NaN);
        using var file = File(("layers.0.weight", Ramp(4, 3)), ("layers.0.bias", Ramp(4)), ("fc.weight", bad), ("layers.1.bias", Ramp(2)));

        var e = Assert.Throws<InvalidDataException>(() => StateDictImport.LoadInto(model, file, new StateDictImportOptions { Rename = n => n.Replace("fc", "layers.1") }));

        Assert.Contains("Weights file test.pth: 'layers.1.weight' (from 'fc.weight'): Expected finite values in fc.weight; found NaN at [1, 2]", e.Message);
        Assert.DoesNotContain("(Parameter", e.Message);
        Assert.Equal(before, Values(model.state_dict()["layers.1.weight"]));
    }

    [Fact]
    public void LoadInto_DisposedFile_IsRefused()
    {
        using var model = new MnistMlp(Tiny);
        var file = File(("layers.0.weight", Ramp(4, 3)));
        file.Dispose();

        Assert.Throws<ObjectDisposedException>(() => StateDictImport.LoadInto(model, file));
    }

    [Fact]
    public void LoadInto_ManyCalls_LeaveNoLiveTensors()
    {
        using var model = new MnistMlp(Tiny);
        using var file = File(
            ("layers.0.weight", Ramp(4, 3).to(ScalarType.Float64)), ("layers.0.bias", Ramp(4)),
            ("layers.1.weight", Ramp(2, 4)), ("layers.1.bias", Ramp(2)));
        StateDictImport.LoadInto(model, file);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        for (int i = 0; i < 20; i++)
        {
            StateDictImport.LoadInto(model, file);
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void StateDictFile_DuplicateNameOrNonCpuOrNull_AreRefused()
    {
        using var a = Ramp(2);
        using var b = Ramp(2);
        var e = Assert.Throws<ArgumentException>(() => new StateDictFile("x.pth", [new("w", a), new("w", b)]));
        Assert.Contains("'w' appears twice in x.pth", e.Message);

        var n = Assert.Throws<ArgumentException>(() => new StateDictFile("x.pth", [new KeyValuePair<string, Tensor>("w", null!)]));
        Assert.Contains("'w' of x.pth has none", n.Message);
    }

    [Fact]
    public void StateDictFile_Describe_ListsNamesShapesAndTypesSortedAndDisposeFreesTheTensors()
    {
        var file = File(("z", zeros(2, 3)), ("a", zeros(4, ScalarType.Int64)));

        Assert.Equal(["a [4] Int64", "z [2×3] Float32"], file.Describe().Select(e => e.ToString()));
        Tensor z = file.Tensors["z"];
        file.Dispose();
        file.Dispose();

        Assert.True(z.IsInvalid);
        Assert.Throws<ObjectDisposedException>(() => file.Describe());
    }

    private static StateDictFile File(params (string Name, Tensor Value)[] tensors)
        => new("test.pth", tensors.Select(t => new KeyValuePair<string, Tensor>(t.Name, t.Value)), new Dictionary<string, string> { ["format"] = "test" });

    // Distinct, smallish values: 0.1·(i + 1)·(−1)^i over the flattened index.
    private static float[] RampValues(params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        return Enumerable.Range(0, n).Select(i => 0.1f * (i + 1) * (i % 2 == 0 ? 1 : -1)).ToArray();
    }

    private static Tensor Ramp(params int[] shape) => tensor(RampValues(shape)).reshape(shape.Select(d => (long)d).ToArray());

    private static Tensor Quarters(params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        return tensor(Enumerable.Range(0, n).Select(i => (i - n / 2) * 0.25f).ToArray()).reshape(shape.Select(d => (long)d).ToArray());
    }

    private static float[] Values(Tensor t)
    {
        using var f = t.detach().to(ScalarType.Float32).contiguous();
        return f.data<float>().ToArray();
    }

    private static double[] Mlp(float[] x, float[] w0, float[] b0, float[] w1, float[] b1)
    {
        var hidden = new double[4];
        for (int o = 0; o < 4; o++)
        {
            double s = b0[o];
            for (int i = 0; i < 3; i++)
            {
                s += (double)w0[o * 3 + i] * x[i];
            }

            hidden[o] = Math.Max(0, s);
        }

        var output = new double[2];
        for (int o = 0; o < 2; o++)
        {
            double s = b1[o];
            for (int i = 0; i < 4; i++)
            {
                s += (double)w1[o * 4 + i] * hidden[i];
            }

            output[o] = s;
        }

        return output;
    }
}

/// <summary><see cref="StateDictFile.DetectFormat"/> and <see cref="StateDictFile.Read"/> on the golden files of the two readers.</summary>
public sealed class StateDictFileFormatTests : IDisposable
{
    private static readonly string Data = Path.Combine(AppContext.BaseDirectory, "TestData");
    private readonly string dir = Directory.CreateTempSubdirectory("dls-weights-format-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData("pytorch/state_dict.pth", WeightsFileFormat.PyTorch)]
    [InlineData("pytorch/torchscript.pt", WeightsFileFormat.PyTorch)]     // a zip too: PyTorchFile says it is TorchScript
    [InlineData("pytorch/legacy.pth", WeightsFileFormat.PyTorch)]         // a pickle: PyTorchFile says how to save it again
    [InlineData("safetensors/golden.safetensors", WeightsFileFormat.SafeTensors)]
    public void DetectFormat_GoldenFiles_ByContent(string file, WeightsFileFormat expected)
    {
        // Copied under a neutral name: the format comes from the bytes, not the extension.
        string copy = Path.Combine(dir, "weights.bin");
        File.Copy(Path.Combine(Data, file), copy);

        Assert.Equal(expected, StateDictFile.DetectFormat(copy));
    }

    [Fact]
    public void Read_EitherFormat_GivesWhatItsOwnReaderGives()
    {
        foreach (string file in new[] { "pytorch/state_dict.pth", "safetensors/golden.safetensors" })
        {
            using var scope = NewDisposeScope();
            string path = Path.Combine(Data, file);
            using StateDictFile viaEither = StateDictFile.Read(path);
            using StateDictFile viaOwn = file.EndsWith(".pth", StringComparison.Ordinal) ? PyTorchFile.Read(path) : SafeTensors.Read(path);
            Assert.Equal(viaOwn.Describe().Select(e => e.ToString()), viaEither.Describe().Select(e => e.ToString()));
            Assert.All(viaOwn.Tensors, p => Assert.True(p.Value.eq(viaEither.Tensors[p.Key]).all().item<bool>(), p.Key));
        }
    }

    [Fact]
    public void Read_LegacyPickle_GetsThePyTorchReadersAdvice()
    {
        var e = Assert.Throws<InvalidDataException>(() => StateDictFile.Read(Path.Combine(Data, "pytorch", "legacy.pth")));

        Assert.Contains("legacy serialization format", e.Message);
    }

    [Theory]
    [InlineData(new byte[0], "found an empty file")]
    [InlineData(new byte[] { 0x68, 0x69, 0x21 }, "found first bytes 686921")]
    [InlineData(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0, 0x5B }, "found first bytes 08000000000000005B")]   // a header that is not an object
    public void DetectFormat_NeitherFormat_SaysWhatWasExpectedAndFound(byte[] content, string found)
    {
        string path = Path.Combine(dir, "weights.pth");
        File.WriteAllBytes(path, content);

        var e = Assert.Throws<InvalidDataException>(() => StateDictFile.DetectFormat(path));

        Assert.Contains($"Weights file '{path}': expected a PyTorch file (a zip archive, starting 504B0304) or a safetensors file", e.Message);
        Assert.Contains(found, e.Message);
    }

    [Fact]
    public void DetectFormat_DlsCheckpoint_SaysWhatItLikelyIs()
    {
        string path = Path.Combine(dir, "mlp.bin");
        using (var model = new MnistMlp(new MnistMlpOptions { InputSize = 3, HiddenSize = 4, HiddenLayers = 1, Classes = 2 }))
        {
            Checkpoint.Save(path, model);
        }

        var e = Assert.Throws<InvalidDataException>(() => StateDictFile.DetectFormat(path));

        Assert.Contains("It has a sidecar (mlp.bin.json), so it is likely a Dls checkpoint: load it with Checkpoint.Load", e.Message);
    }

    [Fact]
    public void DetectFormat_MissingFile_IsFileNotFound()
    {
        string path = Path.Combine(dir, "none.pth");

        var e = Assert.Throws<FileNotFoundException>(() => StateDictFile.Read(path));

        Assert.Equal(path, e.FileName);
    }
}
