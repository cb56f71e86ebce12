namespace Dls.Speaker.Tests.Data;

/// <summary>A temporary folder deleted on dispose; files are created empty (the dataset code only lists them).</summary>
internal sealed class TempTree : IDisposable
{
    public TempTree() => Root = Directory.CreateTempSubdirectory("dls-speaker-").FullName;

    public string Root { get; }

    public string Touch(string relative, string content = "")
    {
        var path = Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
