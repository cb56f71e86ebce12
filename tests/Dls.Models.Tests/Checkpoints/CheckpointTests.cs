using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using Dls.Models.Mnist;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Tests.Checkpoints;

public sealed class CheckpointTests : IDisposable
{
    private static readonly MnistMlpOptions Tiny = new() { InputSize = 12, HiddenSize = 8, HiddenLayers = 2, Classes = 3 };
    private readonly string dir = Directory.CreateTempSubdirectory("dls-ckpt-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void SaveLoad_RoundTrip_RebuildsSameModelFromFilesAlone()
    {
        string path = Path.Combine(dir, "mlp.bin");
        using var model = new MnistMlp(Tiny);
        model.eval();
        Checkpoint.Save(path, model, new JsonObject { ["epoch"] = 3 });

        var (loaded, info) = Checkpoint.Load(path);
        using (loaded)
        {
            var mlp = Assert.IsType<MnistMlp>(loaded);
            Assert.Equal(Tiny, mlp.Options);
            Assert.Equal(MnistMlp.ArchitectureName, info.Architecture);
            Assert.Equal(3, info.Metadata["epoch"]!.GetValue<int>());
            using var x = torch.rand(5, 12);
            using var a = model.call(x);
            using var b = mlp.call(x);
            Assert.True(a.data<float>().ToArray().SequenceEqual(b.data<float>().ToArray()), "Reloaded weights must reproduce the outputs bit for bit.");
        }
        Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Save_MetadataJsonCannotHold_ThrowsAndLeavesPreviousCheckpointWhole()
    {
        string path = Path.Combine(dir, "kept.bin");
        using var first = new MnistMlp(Tiny);
        Checkpoint.Save(path, first, new JsonObject { ["epoch"] = 1 });
        byte[] weights = File.ReadAllBytes(path), sidecar = File.ReadAllBytes(Checkpoint.SidecarPath(path));
        using var second = new MnistMlp(Tiny);

        // JSON has no infinity: the sidecar cannot be written, and neither may the new weights (they would no longer
        // match the old sidecar, and the old checkpoint would be lost).
        Assert.ThrowsAny<ArgumentException>(() => Checkpoint.Save(path, second, new JsonObject { ["loss"] = double.PositiveInfinity }));

        Assert.Equal(weights, File.ReadAllBytes(path));
        Assert.Equal(sidecar, File.ReadAllBytes(Checkpoint.SidecarPath(path)));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
        using var loaded = Checkpoint.Load<MnistMlp>(path);   // still a consistent pair
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.NegativeInfinity, "-Infinity")]
    public void Save_NonFiniteMetadataValue_ThrowsNamingKeyPathAndValue(double value, string shown)
    {
        string path = Path.Combine(dir, "nan.bin");
        using var model = new MnistMlp(Tiny);
        var metadata = new JsonObject { ["epoch"] = 2, ["trainer"] = new JsonObject { ["history"] = new JsonArray(new JsonObject { ["loss"] = value }) } };

        var e = Assert.Throws<ArgumentException>(() => Checkpoint.Save(path, model, metadata));

        Assert.Equal("metadata", e.ParamName);
        Assert.Contains($"found {shown} at metadata.trainer.history[0].loss", e.Message);
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(Checkpoint.SidecarPath(path)));
    }

    [Fact]
    public void Copy_GoodCheckpoint_ReplacesDestinationPairLoadably()
    {
        string source = Path.Combine(dir, "scratch", "new.bin"), destination = Path.Combine(dir, "published.bin");
        using var old = new MnistMlp(Tiny);
        Checkpoint.Save(destination, old, new JsonObject { ["run"] = "old" });
        using var fresh = new MnistMlp(Tiny);
        Checkpoint.Save(source, fresh, new JsonObject { ["run"] = "new" });

        Checkpoint.Copy(source, destination);

        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(destination));
        Assert.Equal(File.ReadAllBytes(Checkpoint.SidecarPath(source)), File.ReadAllBytes(Checkpoint.SidecarPath(destination)));
        var (loaded, info) = Checkpoint.Load(destination);
        loaded.Dispose();
        Assert.Equal("new", info.Metadata["run"]!.GetValue<string>());
    }

    [Fact]
    public void Copy_WeightsNotMatchingSidecar_ThrowsAndLeavesDestinationWhole()
    {
        string source = Path.Combine(dir, "broken.bin"), destination = Path.Combine(dir, "kept.bin");
        using var model = new MnistMlp(Tiny);
        Checkpoint.Save(destination, model, new JsonObject { ["run"] = "old" });
        byte[] kept = File.ReadAllBytes(destination);
        Checkpoint.Save(source, model);
        File.WriteAllBytes(source, File.ReadAllBytes(source)[..100]);

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Copy(source, destination));

        Assert.Contains($"Checkpoint weights '{source}' are truncated or replaced", e.Message);
        Assert.Equal(kept, File.ReadAllBytes(destination));
        Assert.Equal("old", Checkpoint.ReadInfo(destination).Metadata["run"]!.GetValue<string>());
    }

    [Fact]
    public void ReadFiles_GoodCheckpoint_HoldsTheBytesOnDiskAndWritesThemElsewhere()
    {
        string source = Path.Combine(dir, "a.bin"), destination = Path.Combine(dir, "out", "b.bin");
        using var model = new MnistMlp(Tiny);
        Checkpoint.Save(source, model, new JsonObject { ["run"] = "a" });

        CheckpointFiles files = Checkpoint.ReadFiles(source);
        files.WriteTo(destination);

        Assert.Equal(File.ReadAllBytes(source), files.Weights.ToArray());
        Assert.Equal(File.ReadAllBytes(Checkpoint.SidecarPath(source)), files.Sidecar.ToArray());
        Assert.Equal("a", files.Info.Metadata["run"]!.GetValue<string>());
        Assert.Equal([destination, Checkpoint.SidecarPath(destination)], files.WritesTo(destination).Select(w => w.Path));
        using var loaded = Checkpoint.Load<MnistMlp>(destination);
    }

    [Fact]
    public void ReadFiles_WeightsChangedAtTheSameLength_ThrowsNamingTheHashes()
    {
        string source = Path.Combine(dir, "a.bin");
        using var model = new MnistMlp(Tiny);
        var info = Checkpoint.Save(source, model);
        byte[] weights = File.ReadAllBytes(source);
        weights[^1] ^= 0xFF;
        File.WriteAllBytes(source, weights);

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadFiles(source));

        Assert.Contains($"Checkpoint weights '{source}' are corrupt: expected SHA-256 {info.WeightsSha256}, found ", e.Message);
    }

    [Fact]
    public void ExtractToTemporaryFolder_DamagedCopyOfTheSameLength_IsWrittenAnew()
    {
        string source = Path.Combine(dir, "embedded.bin");
        using var model = new MnistMlp(Tiny);
        Checkpoint.Save(source, model, new JsonObject { ["run"] = Guid.NewGuid().ToString() });   // content unique to this test
        byte[] weights = File.ReadAllBytes(source), sidecar = File.ReadAllBytes(Checkpoint.SidecarPath(source));

        string path = Checkpoint.ExtractToTemporaryFolder("embedded.bin", weights, sidecar);
        try
        {
            byte[] damaged = weights.ToArray();
            damaged[^1] ^= 0xFF;                      // same length: a length check alone would keep it forever
            File.WriteAllBytes(path, damaged);

            Assert.Equal(path, Checkpoint.ExtractToTemporaryFolder("embedded.bin", weights, sidecar));

            Assert.Equal(weights, File.ReadAllBytes(path));
            using var loaded = Checkpoint.Load<MnistMlp>(path);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void LoadInto_DifferentArchitecture_ListsDifferingNamesAndShapes()
    {
        string path = Path.Combine(dir, "mlp.bin");
        using (var model = new MnistMlp(Tiny)) Checkpoint.Save(path, model);
        using var other = new MnistMlp(Tiny with { HiddenSize = 9 });
        var e = Assert.Throws<ArgumentException>(() => Checkpoint.LoadInto(other, path));
        Assert.Contains("layers.0.weight: model expects [9×12] Float32, checkpoint has [8×12] Float32", e.Message);

        using var lowRank = new LowRankMlp(new LowRankMlpOptions { Shape = Tiny, Rank = 2 });
        e = Assert.Throws<ArgumentException>(() => Checkpoint.LoadInto(lowRank, path));
        Assert.Contains("missing in checkpoint: layers.0.u [8×2] Float32", e.Message);
        Assert.Contains("not in model: layers.0.weight [8×12] Float32", e.Message);
    }

    [Fact]
    public void Load_TruncatedWeights_ThrowsInvalidDataWithExpectedAndFoundLength()
    {
        string path = Path.Combine(dir, "mlp.bin");
        CheckpointInfo info;
        using (var model = new MnistMlp(Tiny)) info = Checkpoint.Save(path, model);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains($"expected {info.WeightsBytes} bytes, found {info.WeightsBytes - 10}", e.Message);
    }

    [Fact]
    public void Load_FlippedWeightByte_ThrowsInvalidDataWithHashes()
    {
        string path = Path.Combine(dir, "mlp.bin");
        using (var model = new MnistMlp(Tiny)) Checkpoint.Save(path, model);
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0x55;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains("expected SHA-256", e.Message);
    }

    [Theory]
    [InlineData("not json", "not a JSON object")]
    [InlineData("{\"format\":\"other\"}", "expected format 'dls-checkpoint', found 'other'")]
    [InlineData("{\"format\":\"dls-checkpoint\",\"format_version\":1}", "expected a 'state' field")]
    [InlineData("null", "expected a JSON object, found null")]
    public void ReadInfo_MalformedSidecar_ThrowsInvalidData(string sidecar, string expected)
    {
        string path = Path.Combine(dir, "x.bin");
        File.WriteAllText(Checkpoint.SidecarPath(path), sidecar);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadInfo(path));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Load_UnknownArchitecture_NamesRegisteredOnes()
    {
        string path = Path.Combine(dir, "mlp.bin");
        using (var model = new MnistMlp(Tiny))
            Checkpoint.Save(path, model, new ModelDescription("no-such-net", new JsonObject()));
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains("no-such-net", e.Message);
        Assert.Contains(MnistMlp.ArchitectureName, e.Message);
    }

    [Fact]
    public void Register_SameNameOtherOptionsType_Throws()
    {
        ModelArchitectures.Register<MnistMlpOptions>(MnistMlp.ArchitectureName, o => new MnistMlp(o)); // same type: no-op
        Assert.Throws<InvalidOperationException>(() =>
            ModelArchitectures.Register<LowRankMlpOptions>(MnistMlp.ArchitectureName, o => new LowRankMlp(o)));
    }

    [Fact]
    public void IsRegistered_NullName_ThrowsArgumentNullNamingName()
    {
        var e = Assert.Throws<ArgumentNullException>(() => ModelArchitectures.IsRegistered(null!));
        Assert.Equal("name", e.ParamName);
    }

    [Fact]
    public void Create_NullArchitectureName_ThrowsNamingDescription()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelArchitectures.Create(new ModelDescription(null!, new JsonObject())));
        Assert.Equal("description", e.ParamName);
        Assert.Contains("Expected an architecture name in description.Architecture, found null.", e.Message);
    }

    [Fact]
    public void Create_NullOptions_ThrowsNamingDescription()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelArchitectures.Create(new ModelDescription(MnistMlp.ArchitectureName, null!)));
        Assert.Equal("description", e.ParamName);
        Assert.Contains($"Expected the options of architecture '{MnistMlp.ArchitectureName}' in description.Options, found null.", e.Message);
    }

    [Fact]
    public void Create_OptionKeyGivenTwiceInAnotherCase_ThrowsInvalidDataNamingIt()
    {
        // Keys are matched case-insensitively, so "hidden_size" and "Hidden_Size" both set HiddenSize: which value won was
        // the serializer's choice (the last), not the caller's.
        var options = new JsonObject { ["input_size"] = 12, ["hidden_size"] = 8, ["Hidden_Size"] = 9, ["hidden_layers"] = 2, ["classes"] = 3 };

        var e = Assert.Throws<InvalidDataException>(() => ModelArchitectures.Create(new ModelDescription(MnistMlp.ArchitectureName, options)));

        Assert.Contains("do not deserialize as MnistMlpOptions", e.Message);
        Assert.Contains("Duplicate property 'hidden_size'", e.Message);
    }

    [Fact]
    public void Load_MisspelledOptionKey_ThrowsNamingSidecarKeyAndExpectedKeys()
    {
        string path = Path.Combine(dir, "mlp.bin");
        using (var model = new MnistMlp(Tiny)) Checkpoint.Save(path, model);
        EditOptions(path, o => o["hidden_layer"] = o["hidden_layers"]!.DeepClone());

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));

        Assert.Contains($"Checkpoint sidecar '{Checkpoint.SidecarPath(path)}'", e.Message);
        Assert.Contains("unknown key(s) [hidden_layer]", e.Message);
        Assert.Contains("expected keys of MnistMlpOptions: [input_size, hidden_size, hidden_layers, classes, dropout]", e.Message);
    }

    [Fact]
    public void Load_UnknownNestedOptionKey_ThrowsInvalidData()
    {
        string path = Path.Combine(dir, "lowrank.bin");
        using (var model = new LowRankMlp(new LowRankMlpOptions { Shape = Tiny, Rank = 2 })) Checkpoint.Save(path, model);
        EditOptions(path, o => o["shape"]!["hiden_size"] = 8);

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));

        Assert.Contains(Checkpoint.SidecarPath(path), e.Message);
        Assert.Contains("hiden_size", e.Message);
    }

    [Fact]
    public void Load_InvalidOptionValue_ThrowsInvalidDataNamingSidecarAndField()
    {
        string path = Path.Combine(dir, "mlp.bin");
        using (var model = new MnistMlp(Tiny)) Checkpoint.Save(path, model);
        EditOptions(path, o => o["dropout"] = 1.5);

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));

        Assert.Contains($"Checkpoint sidecar '{Checkpoint.SidecarPath(path)}'", e.Message);
        Assert.Contains("are invalid", e.Message);
        Assert.Contains("Dropout must be in [0, 1), got 1.5", e.Message);
        Assert.IsType<ArgumentException>(e.InnerException!.InnerException);
    }

    [Fact]
    public void ReadInfo_DuplicateStateName_ThrowsNamingIt()
    {
        string path = Path.Combine(dir, "mlp.bin");
        using (var model = new MnistMlp(Tiny)) Checkpoint.Save(path, model);
        string sidecar = Checkpoint.SidecarPath(path);
        var json = JsonNode.Parse(File.ReadAllText(sidecar))!.AsObject();
        var state = json["state"]!.AsArray();
        state.Add(state[0]!.DeepClone());
        File.WriteAllText(sidecar, json.ToJsonString());

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadInfo(path));

        Assert.Contains($"Checkpoint sidecar '{sidecar}': expected each state name once, found '{state[0]!["name"]}' ×2", e.Message);
    }

    private static void EditOptions(string path, Action<JsonObject> edit)
    {
        string sidecar = Checkpoint.SidecarPath(path);
        var json = JsonNode.Parse(File.ReadAllText(sidecar))!.AsObject();
        edit(json["options"]!.AsObject());
        File.WriteAllText(sidecar, json.ToJsonString());
    }

    [Fact]
    public void DescribeDifferences_DuplicateStateName_ThrowsNamingIt()
    {
        var weight = new StateEntry("fc.weight", [2, 3], "Float32");
        var bias = new StateEntry("fc.bias", [2], "Float32");

        var e = Assert.Throws<ArgumentException>(() => Checkpoint.DescribeDifferences([weight, bias], [weight, bias, bias]));

        Assert.Equal("found", e.ParamName);
        Assert.Contains("Expected each state name once in found, found 'fc.bias' ×2", e.Message);
    }

    [Fact]
    public void Copy_DestinationIsTheSource_ThrowsNamingItAndLeavesItWhole()
    {
        string path = Path.Combine(dir, "same.bin");
        using (var model = new MnistMlp(Tiny)) Checkpoint.Save(path, model);
        byte[] weights = File.ReadAllBytes(path);

        // The same file by another spelling of its path (GetFullPath removes the "./").
        var e = Assert.Throws<ArgumentException>(() => Checkpoint.Copy(path, Path.Combine(dir, ".", "same.bin")));

        Assert.Equal("destination", e.ParamName);
        Assert.Contains($"Expected a destination other than the source; found '{path}' for both", e.Message);
        Assert.Equal(weights, File.ReadAllBytes(path));
    }

    [Fact]
    public void ReadFiles_NoSidecar_ThrowsNamingSidecarAndPair()
    {
        string path = Path.Combine(dir, "lonely.bin");
        File.WriteAllBytes(path, [1, 2, 3]);

        var e = Assert.Throws<FileNotFoundException>(() => Checkpoint.ReadFiles(path));

        Assert.Equal(Checkpoint.SidecarPath(path), e.FileName);
        Assert.Contains($"Checkpoint sidecar '{Checkpoint.SidecarPath(path)}' not found (a checkpoint is '{path}' plus '{Checkpoint.SidecarPath(path)}')", e.Message);
    }

    [Fact]
    public void ReadFiles_WeightsMissing_ThrowsNamingWeights()
    {
        string path = Path.Combine(dir, "gone.bin");
        using (var model = new MnistMlp(Tiny)) Checkpoint.Save(path, model);
        File.Delete(path);

        var e = Assert.Throws<FileNotFoundException>(() => Checkpoint.ReadFiles(path));

        Assert.Equal(path, e.FileName);
        Assert.Contains($"Checkpoint weights '{path}' not found (its sidecar exists)", e.Message);
    }

    [Theory]
    [InlineData("sub/model.bin")]
    [InlineData("../model.bin")]
    public void ExtractToTemporaryFolder_NameWithFolders_ThrowsNamingIt(string fileName)
    {
        var e = Assert.Throws<ArgumentException>(() => Checkpoint.ExtractToTemporaryFolder(fileName, [1], [2]));

        Assert.Equal("fileName", e.ParamName);
        Assert.Contains($"Expected a file name without folders; found '{fileName}'", e.Message);
    }

    [Fact]
    public void Load_ModelSavedWithoutArchitecture_ThrowsSayingUseLoadInto()
    {
        string path = Path.Combine(dir, "linear.bin");
        using var linear = nn.Linear(3, 2);
        Checkpoint.Save(path, linear);   // a Linear does not describe itself

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));

        Assert.Contains($"Checkpoint '{path}' holds a {typeof(TorchSharp.Modules.Linear).FullName} saved without an architecture description", e.Message);
        Assert.Contains("use Checkpoint.LoadInto", e.Message);
        using var target = nn.Linear(3, 2);
        Checkpoint.LoadInto(target, path);   // the route the message points to works: the saved values arrive
        Assert.True(target.weight!.allclose(linear.weight!, rtol: 0, atol: 0), "weights differ after LoadInto");
        Assert.True(target.bias!.allclose(linear.bias!, rtol: 0, atol: 0), "biases differ after LoadInto");
    }

    [Fact]
    public void LoadTyped_OtherModelType_ThrowsNamingArchitectureAndBothTypes()
    {
        string path = Path.Combine(dir, "mlp.bin");
        using (var model = new MnistMlp(Tiny)) Checkpoint.Save(path, model);

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load<LowRankMlp>(path));

        Assert.Contains($"Checkpoint '{path}' holds architecture '{MnistMlp.ArchitectureName}' (MnistMlp), expected a LowRankMlp", e.Message);
    }

    [Fact]
    public void Load_WeightsUnreadableThoughMatchingTheirSidecar_ThrowsInvalidDataNamingWeights()
    {
        // Weights cut short and the sidecar's length and hash updated to match: only reading them can tell.
        string path = Path.Combine(dir, "cut.bin");
        using (var model = new MnistMlp(Tiny)) Checkpoint.Save(path, model);
        byte[] cut = File.ReadAllBytes(path)[..40];
        File.WriteAllBytes(path, cut);
        string sidecar = Checkpoint.SidecarPath(path);
        var json = JsonNode.Parse(File.ReadAllText(sidecar))!.AsObject();
        json["weights_bytes"] = cut.Length;
        json["weights_sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(cut));
        File.WriteAllText(sidecar, json.ToJsonString());

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));

        Assert.Contains($"Checkpoint weights '{path}' could not be read: ", e.Message);
        Assert.IsType<EndOfStreamException>(e.InnerException);
    }

    /// <summary>Options that serialize to JSON null (through their own converter), which no checkpoint can hold.</summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(NullWriter))]
    private sealed record NullOptions;

    private sealed class NullWriter : System.Text.Json.Serialization.JsonConverter<NullOptions>
    {
        public override NullOptions Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) => new();

        public override void Write(System.Text.Json.Utf8JsonWriter writer, NullOptions value, System.Text.Json.JsonSerializerOptions options) => writer.WriteNullValue();
    }

    /// <summary>Options that serialize to a JSON array (through their own converter).</summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(ArrayWriter))]
    private sealed record ArrayOptions;

    private sealed class ArrayWriter : System.Text.Json.Serialization.JsonConverter<ArrayOptions>
    {
        public override ArrayOptions Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) => new();

        public override void Write(System.Text.Json.Utf8JsonWriter writer, ArrayOptions value, System.Text.Json.JsonSerializerOptions options)
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(1);
            writer.WriteEndArray();
        }
    }

    [Fact]
    public void ToJson_OptionsSerializingToAnArray_ThrowsNamingTheTypeAndTheKind()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelArchitectures.ToJson(new ArrayOptions()));

        Assert.Equal("options", e.ParamName);
        Assert.Contains("Expected ArrayOptions to serialize to a JSON object; found a JSON array", e.Message);
    }

    [Fact]
    public void ToJson_NullOptions_ThrowsArgumentNullNamingOptions()
    {
        var e = Assert.Throws<ArgumentNullException>(() => ModelArchitectures.ToJson<MnistMlpOptions>(null!));

        Assert.Equal("options", e.ParamName);
    }

    [Fact]
    public void ToJson_OptionsSerializingToNull_ThrowsNamingTheType()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelArchitectures.ToJson(new NullOptions()));

        Assert.Equal("options", e.ParamName);
        Assert.Contains("Expected NullOptions to serialize to a JSON object; found null", e.Message);
    }
}
