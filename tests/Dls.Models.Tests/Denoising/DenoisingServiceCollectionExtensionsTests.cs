using Dls.Models.Denoising;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dls.Models.Tests.Denoising;

public sealed class DenoisingServiceCollectionExtensionsTests
{
    private static async Task<OptionsValidationException> StartupFailure(Action<DenoiserOptions> configure)
    {
        await using ServiceProvider provider = new ServiceCollection().AddDlsDenoiser(configure).BuildServiceProvider();
        // What a host runs on start (ValidateOnStart).
        return await Assert.ThrowsAsync<OptionsValidationException>(() => provider.GetRequiredService<IAsyncStartupValidator>().ValidateAsync(CancellationToken.None));
    }

    [Fact]
    public async Task AddDlsDenoiser_MissingModelFile_FailsOnStartNamingModelPath()
    {
        OptionsValidationException e = await StartupFailure(o => o.ModelPath = "/no/such/model.ckpt");

        Assert.Contains("DenoiserOptions.ModelPath: checkpoint '/no/such/model.ckpt' does not exist", e.Message);
    }

    [Fact]
    public async Task AddDlsDenoiser_NonPositiveSettings_FailsNamingEachOption()
    {
        OptionsValidationException e = await StartupFailure(o =>
        {
            o.MaxFramesPerBatch = 0;
            o.OutputSampleRate = -1;
        });

        Assert.Contains("DenoiserOptions.MaxFramesPerBatch must be in [1, 524287] (found 0)", e.Message);
        Assert.Contains("DenoiserOptions.OutputSampleRate must be > 0 Hz (found -1)", e.Message);
    }

    [Fact]
    public async Task AddDlsDenoiser_BatchOverTheSpanLimit_FailsNamingTheLimit()
    {
        // 524,288 frames of 1,024 float32 values are 2 GiB, one more byte than a span holds.
        OptionsValidationException e = await StartupFailure(o => o.MaxFramesPerBatch = 524_288);

        Assert.Contains("DenoiserOptions.MaxFramesPerBatch must be in [1, 524287] (found 524288)", e.Message);
    }

    [Fact]
    public async Task AddDlsDenoiser_CheckpointOfAnotherArchitecture_FailsNamingModelPath()
    {
        using var temp = new TempFolder();
        string path = temp.File("mnist.ckpt");
        using (var mlp = new Dls.Models.Mnist.MnistMlp(new Dls.Models.Mnist.MnistMlpOptions { HiddenSize = 8, HiddenLayers = 1 }))
        {
            Dls.Models.Checkpoints.Checkpoint.Save(path, mlp);
        }

        OptionsValidationException e = await StartupFailure(o => o.ModelPath = path);

        Assert.Contains("DenoiserOptions.ModelPath:", e.Message);
        Assert.Contains("architecture 'mnist-mlp'", e.Message);
    }

    [Fact]
    public async Task AddDlsDenoiser_RelativePathWithoutSidecar_FailsNamingTheAbsoluteSidecarPath()
    {
        using var temp = new TempFolder();
        string path = temp.File("lonely.ckpt");
        File.WriteAllBytes(path, [1, 2, 3]);
        string relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), path);
        if (Path.IsPathRooted(relative))
        {
            return;   // Windows, with the temporary folder on another drive than the current directory: no relative path exists
        }

        OptionsValidationException e = await StartupFailure(o => o.ModelPath = relative);

        Assert.Contains($"DenoiserOptions.ModelPath: Checkpoint sidecar '{path}.json' not found", e.Message);
    }

    [Theory]
    [InlineData("bins", "257", "is a network over 257 bins; a denoiser needs 513 (n_fft 1024).")]
    [InlineData("hidden_size", "0", "the network options in its sidecar are not usable:")]
    [InlineData("hidden_size", "\"wide\"", "the network options in its sidecar are not usable:")]
    public async Task AddDlsDenoiser_SidecarOptionsTheDenoiserCannotRun_FailsOnStartNamingModelPath(string key, string json, string expected)
    {
        // Found from the sidecar at start, not as a weight-shape mismatch when the model is first resolved.
        using var temp = new TempFolder();
        string path = temp.File("edited.ckpt");
        using (var network = new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 4)))
        {
            DenoisingModels.Save(path, network);
        }

        string sidecar = Dls.Models.Checkpoints.Checkpoint.SidecarPath(path);
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(sidecar))!;
        Assert.True(node["options"]!.AsObject().ContainsKey(key), node["options"]!.ToJsonString());
        node["options"]![key] = System.Text.Json.Nodes.JsonNode.Parse(json);
        File.WriteAllText(sidecar, node.ToJsonString());

        OptionsValidationException e = await StartupFailure(o => o.ModelPath = path);

        Assert.Contains($"DenoiserOptions.ModelPath: Checkpoint '{path}' (fc-mask)", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void AddDlsDenoiser_CalledTwice_RegistersOneDenoiser()
    {
        var services = new ServiceCollection().AddDlsDenoiser().AddDlsDenoiser();

        Assert.Single(services, d => d.ServiceType == typeof(IDenoiser));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<DenoiserOptions>));
    }

    [Fact]
    public async Task AddDlsDenoiser_ValidCheckpoint_ResolvesSingletonThatDenoises()
    {
        using var temp = new TempFolder();
        string path = temp.File("gru.ckpt");
        IMaskNetwork network = DenoisingFixtures.TinyGru();
        DenoisingModels.Save(path, network);
        ((TorchSharp.torch.nn.Module)network).Dispose();
        await using ServiceProvider provider = new ServiceCollection().AddDlsDenoiser(o => o.ModelPath = path).BuildServiceProvider();
        await provider.GetRequiredService<IAsyncStartupValidator>().ValidateAsync(CancellationToken.None);

        IDenoiser denoiser = provider.GetRequiredService<IDenoiser>();

        Assert.Same(denoiser, provider.GetRequiredService<IDenoiser>());
        Assert.Equal("gru-mask", denoiser.Architecture);
        Assert.Equal(4000, denoiser.Denoise(DenoisingFixtures.Tone(4000), 16000).Length);
    }
}
