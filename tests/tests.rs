mod alarm;
