using Dls.Speaker.Data;
using Dls.Speaker.Features;
using Dls.Speaker.Tests.Data;
using Dls.Speaker.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dls.Speaker.Tests.Verification;

[Collection("TorchGlobalState")]
public sealed class SpeakerVerifierTests
{
    [Fact]
    public void EnrollAndVerify_SameAudio_ScoresOneAndAccepts()
    {
        using var verifier = new SpeakerVerifier(new SpeakerEmbedder(TestModels.Random()), threshold: 0.99);
        var a = TestAudio.Voice(150, 1, 1.0, 1);
        var enrolled = verifier.Enroll([a], TestAudio.Rate);
        Assert.Equal(1, enrolled.UtteranceCount);
        var result = verifier.Verify(enrolled, a, TestAudio.Rate);
        // The enrollment of one utterance is its own embedding: cosine 1 up to float32 rounding.
        Assert.Equal(1.0, result.Score, 1e-5);
        Assert.True(result.IsSameSpeaker);
        Assert.Equal(0.99, result.Threshold);
    }

    [Fact]
    public void Enroll_Empty_ThrowsClearMessage()
    {
        using var verifier = new SpeakerVerifier(new SpeakerEmbedder(TestModels.Random()));
        Assert.Contains("at least one utterance", Assert.Throws<ArgumentException>(() => verifier.Enroll([], TestAudio.Rate)).Message);
        Assert.Contains("at least one file", Assert.Throws<ArgumentException>(() => verifier.EnrollFiles([])).Message);
    }

    [Fact]
    public void ModelFile_SaveLoad_RoundTripsEmbeddingsAndThreshold()
    {
        using var tree = new TempTree();
        var model = TestModels.Random(seed: 3, threshold: 0.42);
        string path = Path.Combine(tree.Root, "m.ckpt");
        SpeakerModelFile.Save(path, model.Encoder, model.Features, model.Threshold, new System.Text.Json.Nodes.JsonObject { ["note"] = "test" });
        using var original = new SpeakerEmbedder(model);
        using var loaded = SpeakerVerifier.Load(path);
        Assert.Equal(0.42, loaded.Threshold);
        Assert.Equal("test", loaded.Embedder.Model.Info!.Metadata["note"]!.GetValue<string>());
        var x = TestAudio.Voice(180, 1.2, 1.0, 5);
        Assert.Equal(original.Embed(x, TestAudio.Rate), loaded.Embed(x, TestAudio.Rate));
    }

    [Fact]
    public void ModelFile_SaveLoad_RoundTripsEmbeddingMean()
    {
        using var tree = new TempTree();
        float[] mean = [0.1f, -0.2f, 0.05f, 0.3f, 0f, -0.1f];
        var model = TestModels.Random(seed: 3) with { EmbeddingMean = mean };
        string path = Path.Combine(tree.Root, "m.ckpt");
        SpeakerModelFile.Save(path, model.Encoder, model.Features, model.Threshold, embeddingMean: model.EmbeddingMean);
        using var original = new SpeakerEmbedder(model);
        using var loaded = SpeakerVerifier.Load(path);
        Assert.Equal(mean, loaded.Embedder.Model.EmbeddingMean);
        var x = TestAudio.Voice(180, 1.2, 1.0, 5);
        Assert.Equal(original.Embed(x, TestAudio.Rate), loaded.Embed(x, TestAudio.Rate));

        // Without a mean the key is not written, even when copied metadata carries a stale one, and the loaded model has none.
        SpeakerModelFile.Save(path, model.Encoder, model.Features, model.Threshold, new System.Text.Json.Nodes.JsonObject { ["embedding_mean"] = "stale" });
        using var plain = SpeakerVerifier.Load(path);
        Assert.Null(plain.Embedder.Model.EmbeddingMean);
    }

    [Fact]
    public void ModelFile_BadEmbeddingMean_ThrowsOnSaveAndLoad()
    {
        using var tree = new TempTree();
        var model = TestModels.Random();
        string path = Path.Combine(tree.Root, "m.ckpt");
        var save = Assert.Throws<ArgumentException>(() => SpeakerModelFile.Save(path, model.Encoder, model.Features, model.Threshold, embeddingMean: [0f, float.NaN]));
        Assert.Contains("6 finite values, found 2 values with a non-finite one", save.Message);
        SpeakerModelFile.Save(path, model.Encoder, model.Features, model.Threshold);
        string sidecar = path + ".json";
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(sidecar))!.AsObject();
        json["metadata"]!["embedding_mean"] = new System.Text.Json.Nodes.JsonArray(1, 2);
        File.WriteAllText(sidecar, json.ToJsonString());
        var load = Assert.Throws<InvalidDataException>(() => SpeakerModelFile.Load(path));
        Assert.Contains("array of 6 finite numbers, found [1,2]", load.Message);
    }

    [Fact]
    public void ModelFileLoad_MissingFeaturesMetadata_ThrowsInvalidData()
    {
        using var tree = new TempTree();
        var model = TestModels.Random();
        string path = Path.Combine(tree.Root, "m.ckpt");
        Dls.Models.Checkpoints.Checkpoint.Save(path, model.Encoder);
        var ex = Assert.Throws<InvalidDataException>(() => SpeakerModelFile.Load(path));
        Assert.Contains("'features'", ex.Message);
    }

    [Fact]
    public void AddDlsSpeakerVerifier_BadOptions_FailsOnResolveNamingFields()
    {
        var services = new ServiceCollection();
        services.AddDlsSpeakerVerifier(o => { o.ModelPath = "/nonexistent/model.ckpt"; o.Threshold = 2; });
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ISpeakerVerifier>());
        Assert.Contains("ModelPath", ex.Message);
        Assert.Contains("Threshold", ex.Message);
    }

    [Fact]
    public void AddDlsSpeakerVerifier_Twice_RegistersOnceAndUsesModelFile()
    {
        using var tree = new TempTree();
        var model = TestModels.Random(threshold: 0.3);
        string path = Path.Combine(tree.Root, "m.ckpt");
        SpeakerModelFile.Save(path, model.Encoder, model.Features, model.Threshold);
        model.Encoder.Dispose();

        var services = new ServiceCollection();
        services.AddDlsSpeakerVerifier(o => o.ModelPath = path);
        services.AddDlsSpeakerVerifier(o => o.Threshold = 0.25);
        Assert.Single(services, d => d.ServiceType == typeof(ISpeakerVerifier));
        using var provider = services.BuildServiceProvider();
        var verifier = provider.GetRequiredService<ISpeakerVerifier>();
        Assert.Same(verifier, provider.GetRequiredService<ISpeakerVerifier>());
        Assert.Equal(0.25, verifier.Threshold);
        Assert.Equal(16000, verifier.SampleRate);
    }
}
