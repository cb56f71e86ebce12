using System.Globalization;
using System.Text.Json.Nodes;
using Dls.Models.Checkpoints;
using Dls.Samples.Abstractions;
using Dls.Samples.Denoising;
using Dls.Samples.Speaker;
using Dls.Speaker.Verification;
using Microsoft.Extensions.DependencyInjection;
using static TorchSharp.torch;

namespace Dls.Samples.Tests;

/// <summary>
/// <c>weights import --architecture gru-speaker-encoder</c> on the speaker encoder PyTorch 1.13 wrote for the Dls.Speaker
/// parity test (<c>tests/Dls.Speaker.Tests/TestData/parity/make_speaker_parity.py</c>: 10 input bins, hidden 6 per
/// direction, embedding 5; names <c>rnn.*</c> and <c>linear.*</c>, no input normalization), and the import settings
/// (<c>--features</c>, <c>--threshold</c>) that the plugins' <see cref="IImportedModelWriter"/>s take or refuse.
/// </summary>
[Collection("TorchGlobalState")]
public sealed class WeightsImportSpeakerTests
{
    private const string EncoderOptions = """{"input_size": 10, "hidden_size": 6, "embedding_size": 5}""";

    /// <summary>10 values per frame, as the parity encoder takes; the assignment's |STFT| ('{"kind": "magnitude"}') gives 513.</summary>
    private const string TenMelBins = """{"kind": "log_mel", "mel_bins": 10}""";

    private static readonly string Parity = Path.Combine(RepoPaths.Root, "tests", "Dls.Speaker.Tests", "TestData", "parity");
    private static readonly string PyTorchEncoder = Path.Combine(Parity, "speaker_encoder.pth");
    private static readonly string Speakers = Path.Combine(RepoPaths.Root, "samples", "data", "speaker", "speakers");

    private static string Utterance(string speaker, int index) => Path.Combine(Speakers, speaker, $"{speaker}_{index:000}.wav");

    /// <summary>The import of the parity encoder: its names mapped onto GruSpeakerEncoder's, input normalization kept at identity.</summary>
    private static string[] Import(string output, params string[] more) =>
    [
        "weights", "import", PyTorchEncoder, "--architecture", "gru-speaker-encoder", "--options", EncoderOptions,
        "--map", "rnn=gru", "--map", "linear=fc", "--keep", "input_mean", "--keep", "input_scale", "--out", output, .. more,
    ];

    [Fact]
    public async Task Import_SpeakerEncoderWithFeaturesAndThreshold_GivesAModelThatVerifyScoresAsTheLibrary()
    {
        using var dir = ScratchFolder.Create("dls-weights-speaker-");
        string model = dir.PathFor("speaker.ckpt");

        var (code, stdout, stderr) = await HostRunner.RunAsync(Import(model, "--features", TenMelBins, "--threshold", "0.3"));

        Assert.True(code == 0, stderr);
        Assert.Contains("gru.weight_ih_l0_reverse  ← rnn.weight_ih_l0_reverse", stdout);
        Assert.Contains("speaker model: log_mel at 16000 Hz, n_fft 1024, hop 512, 10 mel bins, 10 values per frame; threshold 0.3 (not calibrated)", stdout);
        Assert.Contains($"dls-samples speaker-eval --data DEV --model {model}", stdout);
        Assert.Contains($"verify --model {model} --threshold T", stdout);
        CheckpointInfo info = SpeakerModelFile.ReadInfo(model);   // what verify, speaker-eval and AddDlsSpeakerVerifier check
        Assert.Equal(0.3, (double)info.Metadata[SpeakerModelFile.ThresholdKey]!);
        Assert.False((bool)info.Metadata["threshold_calibrated"]!);
        Assert.Equal("log_mel", (string)info.Metadata[SpeakerModelFile.FeaturesKey]!["kind"]!);
        Assert.Equal(PyTorchEncoder, (string)info.Metadata["imported_from"]!);

        // The model imported through the command line is PyTorch's: its encoder gives PyTorch's embeddings of the parity
        // features to 1e-5, the tolerance of the library's parity test (float32 both sides, other summation order).
        JsonObject golden = JsonNode.Parse(File.ReadAllText(Path.Combine(Parity, "speaker_encoder.json")))!.AsObject();
        long[] lengths = golden["lengths"]!.AsArray().Select(v => (long)v!).ToArray();
        float[] features = golden["features"]!.AsArray().SelectMany(u => u!.AsArray().SelectMany(f => f!.AsArray().Select(v => (float)v!))).ToArray();
        float[] expected = golden["embeddings"]!.AsArray().SelectMany(r => r!.AsArray().Select(v => (float)v!)).ToArray();
        SpeakerModel loaded = SpeakerModelFile.Load(model);
        using (loaded.Encoder)
        using (NewDisposeScope())
        using (no_grad())
        {
            float[] embeddings = loaded.Encoder.forward(tensor(features).reshape(lengths.Length, -1, 10), tensor(lengths)).data<float>().ToArray();
            Assert.Equal(expected.Length, embeddings.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], embeddings[i], 1e-5);
            }
        }

        string[] enroll = [Utterance("fest_kal", 0), Utterance("fest_kal", 1)];
        string test = Utterance("espk_gb", 0);
        (code, stdout, stderr) = await HostRunner.RunAsync("verify", "--model", model, "--enroll", enroll[0], enroll[1], "--test", test, "--json");

        Assert.True(code == 0, stderr);
        // The same cosine through the library's pieces: the model file, the embedder, enrollment maths. Both sides run the
        // same code on the same files with the same torch threads, so only the JSON's rounding to 6 decimals (±5e-7)
        // separates them; 1e-6 allows that and nothing a wrong model, feature setting or enrollment would leave.
        double score;
        using (var embedder = new SpeakerEmbedder(SpeakerModelFile.Load(model)))
        {
            float[] enrolled = SpeakerEmbeddings.Enroll(enroll.Select(embedder.EmbedFile).ToArray());
            score = SpeakerEmbeddings.Cosine(enrolled, embedder.EmbedFile(test));
        }

        JsonObject result = HostRunner.LastJsonLine(stdout);
        Assert.Equal(score, (double)result["score"]!, 1e-6);
        Assert.Equal(0.3, (double)result["threshold"]!);
        Assert.Equal(score >= 0.3, (bool)result["same_speaker"]!);
        Assert.Contains($"score      {score.ToString("F4", CultureInfo.InvariantCulture)} (cosine, enrolled from 2 file(s))", stdout);
    }

    [Fact]
    public async Task Import_SpeakerEncoderWithoutThreshold_StoresTheDefaultAsNotCalibrated()
    {
        using var dir = ScratchFolder.Create("dls-weights-speaker-default-");
        string model = dir.PathFor("speaker.ckpt");

        var (code, stdout, stderr) = await HostRunner.RunAsync(Import(model, "--features", TenMelBins, "--json"));

        Assert.True(code == 0, stderr);
        JsonObject result = HostRunner.LastJsonLine(stdout);
        Assert.Contains("threshold 0.5 (the default, not calibrated)", (string)result["notes"]![0]!);
        CheckpointInfo info = SpeakerModelFile.ReadInfo(model);
        Assert.Equal(0.5, (double)info.Metadata[SpeakerModelFile.ThresholdKey]!);
        Assert.False((bool)info.Metadata["threshold_calibrated"]!);
    }

    [Fact]
    public async Task Import_SpeakerEncoderWithoutFeatures_IsAUsageErrorThatShowsAnExample()
    {
        using var dir = ScratchFolder.Create("dls-weights-speaker-nofeatures-");
        string model = dir.PathFor("speaker.ckpt");

        var (code, stdout, stderr) = await HostRunner.RunAsync(Import(model, "--threshold", "0.3"));

        Assert.Equal(2, code);
        Assert.Contains("error: --features: a gru-speaker-encoder needs the features it was trained on, and a guessed kind would give wrong embeddings", stderr);
        Assert.Contains("""--features '{"kind": "magnitude"}'""", stderr);
        Assert.Equal("", stdout);
        Assert.False(File.Exists(model));
    }

    [Theory]
    [InlineData("fc-mask", "--features", TenMelBins, "--features: architecture 'fc-mask' takes no --features (it is for gru-speaker-encoder)")]
    [InlineData("gru-mask", "--threshold", "0.3", "--threshold: architecture 'gru-mask' takes no --threshold (it is for gru-speaker-encoder), found '0.3'.")]
    [InlineData("mnist-mlp", "--features", TenMelBins, "--features: architecture 'mnist-mlp' takes no --features (it is for gru-speaker-encoder)")]
    public async Task Import_SettingTheArchitecturesWriterDoesNotTake_IsAUsageError(string architecture, string option, string value, string message)
    {
        using var dir = ScratchFolder.Create("dls-weights-setting-");

        var (code, _, stderr) = await HostRunner.RunAsync("weights", "import", PyTorchEncoder, "--architecture", architecture, option, value, "--out", dir.PathFor("x.ckpt"));

        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.False(File.Exists(dir.PathFor("x.ckpt")));
    }

    [Theory]
    [InlineData("1.5", "--threshold: expected a number from -1 to 1 (a cosine), found 1.5.")]
    [InlineData("-2", "--threshold: expected a number from -1 to 1 (a cosine), found -2.")]
    [InlineData("abc", "--threshold: expected a number, found 'abc'.")]
    [InlineData("NaN", "--threshold: expected a number, found 'NaN'.")]
    public async Task Import_ThresholdThatIsNotACosine_IsAUsageError(string threshold, string message)
    {
        using var dir = ScratchFolder.Create("dls-weights-threshold-");
        string model = dir.PathFor("speaker.ckpt");

        var (code, _, stderr) = await HostRunner.RunAsync(Import(model, "--features", TenMelBins, "--threshold", threshold));

        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.False(File.Exists(model));
    }

    [Theory]
    [InlineData("{kind", "--features: expected JSON, such as {\"kind\": \"magnitude\"}, found text that is not JSON")]
    [InlineData("[1]", "--features: expected a JSON object such as {\"kind\": \"magnitude\"}, found [1].")]
    [InlineData("""{"knd": "magnitude"}""", "--features: expected keys of SpeakerFeatureOptions [sample_rate, n_fft, hop_length, kind, mel_bins, log_floor, feature_size], found unknown key(s) [knd].")]
    [InlineData("""{"n_fft": 18}""", "--features: expected \"kind\" to be one of [log_magnitude, magnitude, log_mel], found none.")]
    [InlineData("""{"kind": 1}""", "--features: expected \"kind\" to be one of [log_magnitude, magnitude, log_mel], found 1.")]
    [InlineData("""{"kind": "magnitude", "n_fft": 8}""", "--features: NFft must be ≥ 16 samples, found 8.")]
    [InlineData("""{"kind": "log_mel", "mel_bins": 10, "feature_size": 513}""", "--features: \"feature_size\" follows from kind, n_fft and mel_bins, which give 10 here, found 513; leave it out.")]
    public async Task Import_FeaturesThatAreNotSpeakerFeatureOptions_IsAUsageErrorSayingWhatIsWrong(string features, string message)
    {
        using var dir = ScratchFolder.Create("dls-weights-features-");
        string model = dir.PathFor("speaker.ckpt");

        var (code, _, stderr) = await HostRunner.RunAsync(Import(model, "--features", features));

        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.False(File.Exists(model));
    }

    [Fact]
    public async Task Import_FeaturesOfAnotherSizeThanTheEncoders_FailsAndWritesNothing()
    {
        using var dir = ScratchFolder.Create("dls-weights-speaker-size-");
        string model = dir.PathFor("speaker.ckpt");

        // The assignment's |STFT| gives 513 values per frame; this encoder takes 10 (known only once --options is applied).
        var (code, stdout, stderr) = await HostRunner.RunAsync(Import(model, "--features", """{"kind": "magnitude"}"""));

        Assert.Equal(1, code);
        Assert.Contains("error: --features: expected features of the encoder's input_size, 10 values per frame", stderr);
        Assert.Contains("found magnitude at 16000 Hz, n_fft 1024, hop 512, 513 values per frame; nothing was written.", stderr);
        Assert.Equal("", stdout);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void ConfigureServices_Twice_RegistersEachPluginsImportWriterOnce()
    {
        var services = new ServiceCollection();
        foreach (ISamplePlugin plugin in new ISamplePlugin[] { new SpeakerPlugin(), new DenoisingPlugin(), new SpeakerPlugin(), new DenoisingPlugin() })
        {
            plugin.ConfigureServices(services);
        }

        using ServiceProvider provider = services.BuildServiceProvider();
        IImportedModelWriter[] writers = provider.GetServices<IImportedModelWriter>().ToArray();
        Assert.Equal(2, writers.Length);
        Assert.Equal(["fc-mask", "gru-mask", "gru-speaker-encoder"], writers.SelectMany(w => w.Architectures).Order(StringComparer.Ordinal));
        Assert.Equal(["features", "threshold"], writers.Single(w => w.Architectures.Contains("gru-speaker-encoder")).Settings.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void SpeakerFeatureOptions_FromTheShippedSidecar_AreAcceptedAsTheyAre()
    {
        // What the README tells a user to copy: the "features" object of a sidecar, feature_size included.
        string sidecar = Path.Combine(RepoPaths.Root, "Dls.Speaker", "Models", "speaker-gru.ckpt.json");
        JsonNode shipped = JsonNode.Parse(File.ReadAllText(sidecar))!["metadata"]!["features"]!.DeepClone();
        var services = new ServiceCollection();
        new SpeakerPlugin().ConfigureServices(services);
        using ServiceProvider provider = services.BuildServiceProvider();
        IImportedModelWriter writer = provider.GetServices<IImportedModelWriter>().Single();

        Assert.Equal("log_magnitude", (string)shipped["kind"]!);
        Assert.Equal(513, (int)shipped["feature_size"]!);
        Assert.Empty(writer.Check("gru-speaker-encoder", new JsonObject { ["features"] = shipped }));
    }
}
