using Hearth.Authorization.Configuration;
using Hearth.ServiceDefaults;
using Hearth.Silo;

// A standalone Hearth silo. With HEARTH_REDIS it joins the cluster whose membership lives in
// Redis (cluster mode); without it, it clusters on localhost. The gateway's embedded mode hosts
// the same silo in-process.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
HearthSettings settings;
try
{
    settings = HearthSettings.Load(key => builder.Configuration[key] ?? builder.Configuration[$"Hearth:{key}"]);
}
catch (HearthConfigurationException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

builder.UseOrleans(silo => silo.AddHearthClusterSilo(settings));
builder.AddHearthTelemetry("hearth-silo");
await builder.Build().RunAsync();
return 0;
