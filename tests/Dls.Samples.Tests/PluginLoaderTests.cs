using System.Reflection;
using System.Reflection.Emit;
using Dls.Samples.Abstractions;

namespace Dls.Samples.Tests;

/// <summary>
/// Plugin discovery on folders of plugin assemblies made here (with <see cref="PersistedAssemblyBuilder"/>), as a third
/// party would ship them next to the host.
/// </summary>
public sealed class PluginLoaderTests
{
    [Fact]
    public void Load_OnePluginAssembly_CreatesItsPlugin()
    {
        using var dir = ScratchFolder.Create("dls-plugins-one-");
        string suffix = Guid.NewGuid().ToString("N");
        EmitPlugin(dir.PathFor($"Dls.Samples.Solo{suffix}.dll"), $"Dls.Samples.Solo{suffix}", "Solo.SoloPlugin", "solo");

        var plugin = Assert.Single(PluginLoader.Load(dir.Path));

        Assert.Equal("solo", plugin.Name);
        Assert.Equal("Solo.SoloPlugin", plugin.GetType().FullName);
    }

    [Fact]
    public void Load_TwoPluginsOfOneName_ThrowsNamingTheNameAndBothTypes()
    {
        using var dir = ScratchFolder.Create("dls-plugins-dup-");
        string suffix = Guid.NewGuid().ToString("N");
        // Names differ in case only: on the command line they would be the same plugin.
        EmitPlugin(dir.PathFor($"Dls.Samples.DupA{suffix}.dll"), $"Dls.Samples.DupA{suffix}", "DupA.EchoPlugin", "Echo");
        EmitPlugin(dir.PathFor($"Dls.Samples.DupB{suffix}.dll"), $"Dls.Samples.DupB{suffix}", "DupB.EchoPlugin", "echo");

        var ex = Assert.Throws<InvalidOperationException>(() => PluginLoader.Load(dir.Path));

        Assert.Equal("Two plugins are named 'Echo': DupA.EchoPlugin, DupB.EchoPlugin.", ex.Message);
    }

    /// <summary>
    /// Saves an assembly holding one public <see cref="ISamplePlugin"/>: <c>Name</c> returns <paramref name="pluginName"/>,
    /// every other member returns null or nothing (the loader only creates plugins and reads their names).
    /// </summary>
    private static void EmitPlugin(string path, string assemblyName, string typeName, string pluginName)
    {
        var assembly = new PersistedAssemblyBuilder(new AssemblyName(assemblyName), typeof(object).Assembly);
        ModuleBuilder module = assembly.DefineDynamicModule(assemblyName);
        TypeBuilder type = module.DefineType(typeName, TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class, typeof(object), [typeof(ISamplePlugin)]);
        type.DefineDefaultConstructor(MethodAttributes.Public);
        foreach (MethodInfo member in typeof(ISamplePlugin).GetMethods())
        {
            MethodBuilder method = type.DefineMethod(member.Name,
                MethodAttributes.Public | MethodAttributes.Virtual | MethodAttributes.Final | MethodAttributes.HideBySig | MethodAttributes.NewSlot,
                member.ReturnType, member.GetParameters().Select(p => p.ParameterType).ToArray());
            ILGenerator il = method.GetILGenerator();
            if (member.Name == "get_" + nameof(ISamplePlugin.Name))
            {
                il.Emit(OpCodes.Ldstr, pluginName);
            }
            else if (member.ReturnType != typeof(void))
            {
                il.Emit(OpCodes.Ldnull);
            }

            il.Emit(OpCodes.Ret);
            type.DefineMethodOverride(method, member);
        }

        type.CreateType();
        assembly.Save(path);
    }
}
