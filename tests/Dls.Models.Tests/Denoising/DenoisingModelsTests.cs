using Dls.Models.Denoising;

namespace Dls.Models.Tests.Denoising;

public sealed class DenoisingModelsTests
{
    [Fact]
    public void Save_NetworkNotAModule_ThrowsNamingTypeAndWritesNothing()
    {
        using var temp = new TempFolder();

        var e = Assert.Throws<ArgumentException>(() => DenoisingModels.Save(temp.File("plain.ckpt"), new PlainMaskNetwork()));

        Assert.Equal("network", e.ParamName);
        Assert.Contains("Expected a TorchSharp module; found PlainMaskNetwork", e.Message);
        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void Save_NetworkOverOtherBins_ThrowsNamingBothAndWritesNothing()
    {
        // Load refuses any network over other than 513 bins, so Save does not write one as a denoiser checkpoint.
        using var temp = new TempFolder();
        using var network = new FcMaskNetwork(new FcMaskNetworkOptions(Bins: 257, HiddenSize: 4));

        var e = Assert.Throws<ArgumentException>(() => DenoisingModels.Save(temp.File("fc257.ckpt"), network));

        Assert.Equal("network", e.ParamName);
        Assert.Contains("reads 513 bins (n_fft 1024, hop 512); found a fc-mask over 257 bins; nothing was written", e.Message);
        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void Load_MissingFile_ThrowsNamingFullPath()
    {
        using var temp = new TempFolder();
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, temp.File("none.ckpt"));

        var e = Assert.Throws<FileNotFoundException>(() => DenoisingModels.Load(relative));

        Assert.Equal(relative, e.FileName);
        Assert.Contains($"Model checkpoint '{temp.File("none.ckpt")}' does not exist", e.Message);
    }
}
