using TorchSharp;

namespace Dls.Samples.Tests;

[Collection("TorchGlobalState")]
public sealed class HostCommandTests
{
    [Fact]
    public async Task Env_Json_ReportsLibtorchAndThreads()
    {
        var (code, stdout, _) = await HostRunner.RunAsync("env", "--json");
        Assert.Equal(0, code);
        var json = HostRunner.LastJsonLine(stdout);
        Assert.StartsWith("2.10", (string)json["libtorch_version"]!);
        Assert.Equal(torch.get_num_threads(), (int)json["torch_threads"]!);
    }

    [Fact]
    public async Task Env_ThreadsOption_ChangesTorchThreads()
    {
        int before = torch.get_num_threads();
        try
        {
            var (code, stdout, _) = await HostRunner.RunAsync("--threads", "1", "env", "--json");
            Assert.Equal(0, code);
            Assert.Equal(1, (int)HostRunner.LastJsonLine(stdout)["torch_threads"]!);
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }

    [Fact]
    public async Task Threads_Zero_FailsWithOneClearLine()
    {
        var (code, _, stderr) = await HostRunner.RunAsync("--threads", "0", "env");
        Assert.Equal(1, code);
        Assert.Contains("--threads: expected a positive number of threads, found 0", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public async Task Run_UnknownTask_NamesTheKnownTasks()
    {
        var (code, _, stderr) = await HostRunner.RunAsync("run", "no-such-task");
        Assert.Equal(1, code);
        Assert.Contains("Unknown task 'no-such-task'", stderr);
    }

    [Fact]
    public async Task Bench_UnknownArea_FailsWithMessage()
    {
        var (code, _, stderr) = await HostRunner.RunAsync("bench", "no-such-area", "--json");
        Assert.Equal(1, code);
        Assert.Contains("Unknown benchmark area 'no-such-area'", stderr);
    }

    [Fact]
    public async Task UnknownOption_IsAUsageError()
    {
        var (code, _, stderr) = await HostRunner.RunAsync("env", "--no-such-option");
        Assert.Equal(2, code);
        Assert.Contains("--no-such-option", stderr);
    }
}
