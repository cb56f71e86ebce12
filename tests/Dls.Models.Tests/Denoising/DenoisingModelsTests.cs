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
    public void Load_MissingFile_ThrowsNamingFullPath()
    {
        using var temp = new TempFolder();
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, temp.File("none.ckpt"));

        var e = Assert.Throws<FileNotFoundException>(() => DenoisingModels.Load(relative));

        Assert.Equal(relative, e.FileName);
        Assert.Contains($"Model checkpoint '{temp.File("none.ckpt")}' does not exist", e.Message);
    }
}
