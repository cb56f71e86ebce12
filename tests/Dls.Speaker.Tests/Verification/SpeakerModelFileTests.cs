using System.Text.Json;
using System.Text.Json.Nodes;
using Dls.Speaker.Features;
using Dls.Speaker.Tests.Data;
using Dls.Speaker.Verification;

namespace Dls.Speaker.Tests.Verification;

[Collection("TorchGlobalState")]
public sealed class SpeakerModelFileTests
{
    [Theory]
    [InlineData(double.NaN)]                  // "≥ −1" is false for NaN as well
    [InlineData(double.NegativeInfinity)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-1.5)]
    public void Save_ThresholdNotACosine_ThrowsAndWritesNothing(double threshold)
    {
        using var tree = new TempTree();
        var model = TestModels.Random();
        using var encoder = model.Encoder;
        string path = Path.Combine(tree.Root, "m.ckpt");

        var ex = Assert.Throws<ArgumentException>(() => SpeakerModelFile.Save(path, encoder, model.Features, threshold));

        Assert.Equal("threshold", ex.ParamName);
        Assert.Contains($"Threshold must be in [−1, 1] (a cosine), found {threshold}.", ex.Message);
        Assert.Empty(Directory.GetFileSystemEntries(tree.Root));
    }

    [Fact]
    public void Save_FeaturesOfAnotherSize_ThrowsWithBothSizesAndWritesNothing()
    {
        using var tree = new TempTree();
        var model = TestModels.Random();
        using var encoder = model.Encoder;
        var logMel = new SpeakerFeatureOptions { Kind = SpeakerFeatureKind.LogMel, MelBins = 64 };

        var ex = Assert.Throws<ArgumentException>(() => SpeakerModelFile.Save(Path.Combine(tree.Root, "m.ckpt"), encoder, logMel, 0.5));

        Assert.Equal("features", ex.ParamName);
        Assert.Contains("Features give 64 values per frame but the encoder expects 513.", ex.Message);
        Assert.Empty(Directory.GetFileSystemEntries(tree.Root));
    }

    [Fact]
    public void LoadAndReadInfo_WeightsMissing_ThrowFileNotFoundNamingThem()
    {
        using var tree = new TempTree();
        string path = SaveRandomModel(tree);
        File.Delete(path);   // the sidecar is still there

        var load = Assert.Throws<FileNotFoundException>(() => SpeakerModelFile.Load(path));
        var info = Assert.Throws<FileNotFoundException>(() => SpeakerModelFile.ReadInfo(path));

        Assert.Equal($"Speaker model '{path}' not found.", load.Message);
        Assert.Equal(path, load.FileName);
        Assert.Equal(load.Message, info.Message);
    }

    /// <summary>
    /// A hand-edited or damaged sidecar: <paramref name="key"/> of the object at <paramref name="where"/> ("options",
    /// "metadata" or "metadata.features") set to the JSON <paramref name="value"/>.
    /// </summary>
    [Theory]
    [InlineData("options", "hidden_size", "\"eight\"", "the encoder options are not GruSpeakerEncoderOptions: ", "hidden_size")]
    [InlineData("options", "hidden_size", "0", "invalid encoder options: HiddenSize must be ≥ 1, found 0.", null)]
    [InlineData("metadata", "features", "5", "metadata 'features' is not SpeakerFeatureOptions: ", "Dls.Speaker.Features.SpeakerFeatureOptions")]
    [InlineData("metadata.features", "hop_length", "0", "invalid feature options: HopLength must be in [1, NFft = 1024] samples, found 0.", null)]
    [InlineData("metadata.features", "kind", "\"log_mel\"", "features give 64 values per frame, the encoder expects 513.", null)]
    [InlineData("metadata", "threshold", "\"0.5\"", "expected a number in [−1, 1] (a cosine) as metadata 'threshold', found \"0.5\".", null)]
    [InlineData("metadata", "threshold", "[0.5]", "expected a number in [−1, 1] (a cosine) as metadata 'threshold', found [0.5].", null)]
    [InlineData("metadata", "threshold", "{}", "expected a number in [−1, 1] (a cosine) as metadata 'threshold', found {}.", null)]
    [InlineData("metadata", "threshold", "null", "expected a number in [−1, 1] (a cosine) as metadata 'threshold', found none.", null)]
    // Beyond double's range: it reads as infinity, which no cosine is (the file's text is shown as it is).
    [InlineData("metadata", "threshold", "1e400", "expected a number in [−1, 1] (a cosine) as metadata 'threshold', found 1e400.", null)]
    [InlineData("metadata", "threshold", "-1e400", "expected a number in [−1, 1] (a cosine) as metadata 'threshold', found -1e400.", null)]
    public void LoadAndReadInfo_DamagedSidecar_ThrowInvalidDataNamingFileAndWhatWasFound(string where, string key, string value, string expected, string? detail)
    {
        using var tree = new TempTree();
        string path = SaveRandomModel(tree);
        EditSidecar(path, where, key, value);

        var info = Assert.Throws<InvalidDataException>(() => SpeakerModelFile.ReadInfo(path));
        var load = Assert.Throws<InvalidDataException>(() => SpeakerModelFile.Load(path));

        string ours = $"Speaker model '{path}': {expected}";
        Assert.StartsWith(ours, info.Message);
        if (detail is not null)
        {
            // The JSON reader's own message, kept after ours, says where and what it could not convert.
            Assert.Contains(detail, info.Message[ours.Length..]);
            Assert.IsAssignableFrom<JsonException>(info.InnerException);
        }

        Assert.Equal(info.Message, load.Message);
    }

    private static void EditSidecar(string path, string where, string key, string value)
    {
        string sidecar = path + ".json";
        var json = JsonNode.Parse(File.ReadAllText(sidecar))!.AsObject();
        JsonObject target = json;
        foreach (string part in where.Split('.'))
            target = target[part]!.AsObject();
        target[key] = JsonNode.Parse(value);
        File.WriteAllText(sidecar, json.ToJsonString());
    }

    /// <summary>A random test model saved as <c>m.ckpt</c> (+ sidecar) in <paramref name="tree"/>; returns the weights path.</summary>
    private static string SaveRandomModel(TempTree tree)
    {
        var model = TestModels.Random();
        using var encoder = model.Encoder;
        string path = Path.Combine(tree.Root, "m.ckpt");
        SpeakerModelFile.Save(path, encoder, model.Features, model.Threshold);
        return path;
    }
}
