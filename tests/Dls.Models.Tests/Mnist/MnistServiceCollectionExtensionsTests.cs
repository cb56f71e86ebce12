using Dls.Models.Checkpoints;
using Dls.Models.Mnist;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dls.Models.Tests.Mnist;

public sealed class MnistServiceCollectionExtensionsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("dls-di-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void AddDlsMnistModels_Twice_RegistersOnce()
    {
        var services = new ServiceCollection();
        services.AddDlsMnistModels().AddDlsMnistModels();
        Assert.Single(services, d => d.ServiceType == typeof(MnistClassifier));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<MnistModelOptions>));
    }

    [Fact]
    public void Classifier_FromConfiguredCheckpoint_IsLazySingletonDisposedByContainer()
    {
        string path = Path.Combine(dir, "tiny.bin");
        using (var model = new MnistMlp(new MnistMlpOptions { InputSize = 4, HiddenSize = 3, HiddenLayers = 1, Classes = 2 }))
            Checkpoint.Save(path, model);
        var provider = new ServiceCollection().AddDlsMnistModels(o => o.CheckpointPath = path).BuildServiceProvider();
        var a = provider.GetRequiredService<MnistClassifier>();
        Assert.Same(a, provider.GetRequiredService<MnistClassifier>());
        Assert.Equal(4, a.Features);
        provider.Dispose();
        Assert.Throws<ObjectDisposedException>(() => a.Logits(new float[4]));
    }

    [Fact]
    public void Options_MissingCheckpointFile_FailValidationNamingField()
    {
        var provider = new ServiceCollection().AddDlsMnistModels(o => o.CheckpointPath = Path.Combine(dir, "nope.bin")).BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<MnistModelOptions>>().Value);
        Assert.Contains("CheckpointPath", e.Message);
    }

    [Fact]
    public void Options_MissingRelativePath_NameTheAbsolutePathLookedUp()
    {
        string relative = Path.Combine("no-such-folder-of-dls", "model.bin");
        var provider = new ServiceCollection().AddDlsMnistModels(o => o.CheckpointPath = relative).BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<MnistModelOptions>>().Value);

        Assert.Contains($"MnistModelOptions.CheckpointPath: checkpoint '{Path.GetFullPath(relative)}' does not exist.", e.Message);
    }

    [Fact]
    public void Classifier_WithoutCheckpoint_ThrowsNamingOption()
    {
        var provider = new ServiceCollection().AddDlsMnistModels().BuildServiceProvider();
        var e = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<MnistClassifier>());
        Assert.Contains("CheckpointPath", e.Message);
    }

    [Fact]
    public void Options_CheckpointWithoutSidecar_FailValidationNamingSidecar()
    {
        string path = Path.Combine(dir, "weights.bin");
        File.WriteAllBytes(path, [1, 2, 3]);
        var provider = new ServiceCollection().AddDlsMnistModels(o => o.CheckpointPath = path).BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<MnistModelOptions>>().Value);

        Assert.Contains("MnistModelOptions.CheckpointPath", e.Message);
        Assert.Contains($"'{Checkpoint.SidecarPath(path)}' not found", e.Message);
    }

    [Fact]
    public void Options_CheckpointOfAnotherModel_FailValidationNamingArchitectures()
    {
        string path = Path.Combine(dir, "denoiser.ckpt");
        using (var network = new Dls.Models.Denoising.FcMaskNetwork(new Dls.Models.Denoising.FcMaskNetworkOptions(HiddenSize: 4)))
            Dls.Models.Denoising.DenoisingModels.Save(path, network);
        var provider = new ServiceCollection().AddDlsMnistModels(o => o.CheckpointPath = path).BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<MnistModelOptions>>().Value);

        Assert.Contains($"checkpoint '{path}' holds architecture 'fc-mask'; a MnistClassifier needs one of [mnist-mlp, mnist-lowrank-mlp]", e.Message);
    }
}
