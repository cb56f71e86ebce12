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
        SetSidecarMetadata(path, "embedding_mean", new System.Text.Json.Nodes.JsonArray(1, 2));
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

    [Fact]
    public void SpeakerEnrollment_NonFiniteValue_ThrowsWithIndex()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SpeakerEnrollment([0.6f, float.NaN, 0.8f], 1));
        Assert.Equal("embedding", ex.ParamName);
        Assert.Contains("Expected finite enrollment values, found NaN at index 1 of 3", ex.Message);
    }

    [Fact]
    public void SpeakerEnrollment_AllZero_ThrowsAtConstructionNotAtVerify()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SpeakerEnrollment(new float[4], 1));
        Assert.Equal("embedding", ex.ParamName);
        Assert.Contains("Expected a unit-length enrollment embedding, found 4 zeros", ex.Message);
    }

    [Fact]
    public void Verify_EnrollmentOfAnotherModelSize_ThrowsNamingBothSizes()
    {
        using var verifier = new SpeakerVerifier(new SpeakerEmbedder(TestModels.Random()));
        var enrolled = new SpeakerEnrollment([0.5f, 0.5f, 0.5f, 0.5f], 1);
        var verify = Assert.Throws<ArgumentException>(() => verifier.Verify(enrolled, TestAudio.Voice(150, 1, 1.0, 1), TestAudio.Rate));
        // Checked before the file is read: the enrollment is the problem, not the (missing) file.
        var verifyFile = Assert.Throws<ArgumentException>(() => verifier.VerifyFile(enrolled, "/nonexistent/test.wav"));
        Assert.Equal("enrolled", verify.ParamName);
        Assert.Contains("The enrollment has 4 values, this model embeds 6", verify.Message);
        Assert.Contains("The enrollment has 4 values, this model embeds 6", verifyFile.Message);
    }

    [Fact]
    public void ModelFile_ThresholdOutsideCosineRange_RejectedOnSaveAndLoadNamingFile()
    {
        using var tree = new TempTree();
        var model = TestModels.Random();
        string path = Path.Combine(tree.Root, "m.ckpt");
        var save = Assert.Throws<ArgumentException>(() => SpeakerModelFile.Save(path, model.Encoder, model.Features, 1.5));
        Assert.Contains("Threshold must be in [−1, 1] (a cosine), found 1.5", save.Message);
        Assert.False(File.Exists(path));

        SpeakerModelFile.Save(path, model.Encoder, model.Features, 0.5);
        SetSidecarMetadata(path, "threshold", 1.5);
        // The file is at fault, not a `threshold` argument of SpeakerVerifier.
        var load = Assert.Throws<InvalidDataException>(() => SpeakerVerifier.Load(path));
        Assert.Contains($"Speaker model '{path}'", load.Message);
        Assert.Contains("expected a number in [−1, 1] (a cosine) as metadata 'threshold', found 1.5", load.Message);
    }

    [Fact]
    public void ModelFileReadInfo_AnotherArchitecture_ThrowsInvalidDataNamingBoth()
    {
        using var tree = new TempTree();
        string path = Path.Combine(tree.Root, "siamese.ckpt");
        using (var siamese = new Dls.Speaker.Training.SiameseSpeakerModel(new Dls.Speaker.Encoders.GruSpeakerEncoder(TestModels.Tiny)))
            Dls.Models.Checkpoints.Checkpoint.Save(path, siamese);
        var ex = Assert.Throws<InvalidDataException>(() => SpeakerModelFile.ReadInfo(path));
        Assert.Contains($"Speaker model '{path}'", ex.Message);
        Assert.Contains("expected architecture 'gru-speaker-encoder'", ex.Message);
        Assert.Contains($"found '{Dls.Speaker.Training.SiameseSpeakerModel.ArchitectureName}'", ex.Message);
    }

    [Fact]
    public async Task AddDlsSpeakerVerifier_MissingRelativePath_NamesTheAbsolutePathLookedUp()
    {
        string relative = Path.Combine("no-such-folder-of-dls", "model.ckpt");

        var ex = await StartupFailure(o => o.ModelPath = relative);

        // Relative paths follow the current directory, which is what a service's user cannot see: the message shows it.
        Assert.Contains($"SpeakerVerifierOptions.ModelPath: expected an existing speaker model file, found nothing at '{Path.GetFullPath(relative)}'.", ex.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AddDlsSpeakerVerifier_MissingSidecar_FailsOnStartNamingItsAbsolutePath(bool relative)
    {
        using var tree = new TempTree();
        string path = SaveRandomModel(tree);
        File.Delete(path + ".json");
        string given = relative ? Path.GetRelativePath(Directory.GetCurrentDirectory(), path) : path;
        if (relative && Path.IsPathRooted(given))
        {
            return;   // Windows, with the temporary folder on another drive than the current directory: no relative path exists
        }

        var ex = await StartupFailure(o => o.ModelPath = given);
        Assert.Contains("SpeakerVerifierOptions.ModelPath:", ex.Message);
        Assert.Contains($"sidecar '{path}.json' not found", ex.Message);
    }

    [Fact]
    public async Task AddDlsSpeakerVerifier_BadThresholdInFile_FailsOnStartNamingFile()
    {
        using var tree = new TempTree();
        string path = SaveRandomModel(tree);
        SetSidecarMetadata(path, "threshold", -3);

        var ex = await StartupFailure(o => o.ModelPath = path);
        Assert.Contains($"SpeakerVerifierOptions.ModelPath: Speaker model '{path}'", ex.Message);
        Assert.Contains("metadata 'threshold', found -3", ex.Message);
    }

    [Fact]
    public void SpeakerEnrollment_EmptyEmbeddingOrNoUtterance_ThrowsSayingWhich()
    {
        var empty = Assert.Throws<ArgumentException>(() => new SpeakerEnrollment([], 1));
        Assert.Equal("embedding", empty.ParamName);
        Assert.Contains("Expected a non-empty enrollment embedding, found none.", empty.Message);
        var none = Assert.Throws<ArgumentException>(() => new SpeakerEnrollment([0.6f, 0.8f], 0));
        Assert.Equal("utteranceCount", none.ParamName);
        Assert.Contains("Expected at least 1 enrollment utterance, found 0.", none.Message);
    }

    [Fact]
    public void Constructor_NullEmbedder_Throws()
    {
        Assert.Equal("embedder", Assert.Throws<ArgumentNullException>(() => new SpeakerVerifier(null!)).ParamName);
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(-1.01)]
    [InlineData(double.NaN)]                  // "≥ −1" fails for NaN: every score would be rejected
    [InlineData(double.NegativeInfinity)]
    public void Constructor_ThresholdOutsideCosineRange_ThrowsWithValue(double threshold)
    {
        using var embedder = new SpeakerEmbedder(TestModels.Random());
        var ex = Assert.Throws<ArgumentException>(() => new SpeakerVerifier(embedder, threshold));
        Assert.Equal("threshold", ex.ParamName);
        Assert.Contains($"Threshold must be in [−1, 1], found {threshold}.", ex.Message);
    }

    [Fact]
    public void Constructor_ModelThresholdNaNAndNoneGiven_Throws()
    {
        // A SpeakerModel built in code (not loaded, so not checked by SpeakerModelFile) with a NaN threshold.
        using var embedder = new SpeakerEmbedder(TestModels.Random(threshold: double.NaN));
        var ex = Assert.Throws<ArgumentException>(() => new SpeakerVerifier(embedder));
        Assert.Equal("embedder", ex.ParamName);   // no threshold argument was given: the bad one came with the model
        Assert.Contains("The model's threshold must be in [−1, 1] (pass a threshold to override it), found NaN.", ex.Message);
    }

    [Fact]
    public void Load_ThresholdOrOptionsRefused_ThrowsTheRefusal()
    {
        using var tree = new TempTree();
        string path = SaveRandomModel(tree);

        // The file is fine; the arguments are not. Load releases what it built and passes the refusal on unchanged.
        var threshold = Assert.Throws<ArgumentException>(() => SpeakerVerifier.Load(path, threshold: 2));
        Assert.Equal("threshold", threshold.ParamName);
        Assert.Contains("Threshold must be in [−1, 1], found 2.", threshold.Message);
        var options = Assert.Throws<ArgumentException>(() => SpeakerVerifier.Load(path, options: new SpeakerEmbedderOptions { MaxWindowsPerBatch = 0 }));
        Assert.Equal("options", options.ParamName);
        Assert.Contains("Invalid SpeakerEmbedderOptions: MaxWindowsPerBatch must be ≥ 1, found 0.", options.Message);
    }

    [Theory]
    [InlineData(16000)]
    [InlineData(22050)]   // resampled to the model's 16 kHz, as Embed does with the same rate
    public void EmbedFile_FloatWav_EqualsEmbeddingItsSamplesFromMemory(int rate)
    {
        using var tree = new TempTree();
        using var verifier = new SpeakerVerifier(new SpeakerEmbedder(TestModels.Random(seed: 2)));
        // 1.2 s, under one 3 s window. Float32 WAV stores the samples exactly, so both calls see the same numbers.
        float[] samples = TestAudio.Voice(170, 1.1, 1.2 * rate / TestAudio.Rate, seed: 4);
        string path = Path.Combine(tree.Root, "u.wav");
        Dls.Audio.IO.WavFile.Write(path, new Dls.Audio.IO.WavData(rate, [samples], Dls.Audio.IO.WavSampleFormat.Float32));

        float[] fromFile = verifier.EmbedFile(path);

        Assert.Equal(verifier.Embed(samples, rate), fromFile);
        Assert.Equal(6, fromFile.Length);
    }

    private static async Task<OptionsValidationException> StartupFailure(Action<SpeakerVerifierOptions> configure)
    {
        await using var provider = new ServiceCollection().AddDlsSpeakerVerifier(configure).BuildServiceProvider();
        // What a host runs on start (ValidateOnStart).
        return await Assert.ThrowsAsync<OptionsValidationException>(() => provider.GetRequiredService<IAsyncStartupValidator>().ValidateAsync(CancellationToken.None));
    }

    /// <summary>Rewrites one metadata entry of the sidecar of the model at <paramref name="path"/> (a hand-edited or damaged file).</summary>
    private static void SetSidecarMetadata(string path, string key, System.Text.Json.Nodes.JsonNode value)
    {
        string sidecar = path + ".json";
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(sidecar))!.AsObject();
        json["metadata"]![key] = value;
        File.WriteAllText(sidecar, json.ToJsonString());
    }

    /// <summary>A random test model saved as <c>m.ckpt</c> (+ sidecar) in <paramref name="tree"/>; returns the weights path.</summary>
    private static string SaveRandomModel(TempTree tree)
    {
        var model = TestModels.Random();
        string path = Path.Combine(tree.Root, "m.ckpt");
        SpeakerModelFile.Save(path, model.Encoder, model.Features, model.Threshold);
        model.Encoder.Dispose();
        return path;
    }
}
